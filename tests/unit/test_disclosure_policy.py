"""Disclosure policy: shipped profiles, operators' files, and refusals naming the key."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from agoria_tre.disclosure.policy import load_policy_file, load_profile
from agoria_tre.disclosure.status import Status, worst
from agoria_tre.errors import InvalidInput


def test_fr_profile() -> None:
    fr = load_profile("fr")
    assert (fr.threshold, fr.zeros, fr.class_disclosure) == (11, Status.REVIEW, Status.REVIEW)
    assert (fr.dominance_n, fr.dominance_k, fr.p_percent, fr.min_dof) == (2, 0.85, 0.10, 10)
    assert (fr.negative_values, fr.missing_values) == (Status.REVIEW, Status.REVIEW)


def test_uk_profile_is_acro_1_0_2() -> None:
    uk = load_profile("uk")
    assert (uk.threshold, uk.zeros, uk.dominance_n, uk.dominance_k) == (10, Status.FAIL, 2, 0.9)
    assert (uk.p_percent, uk.min_dof) == (0.10, 10)


def test_report_form_of_a_policy() -> None:
    data = load_profile("fr").as_dict()
    assert data["name"] == "fr"
    assert data["zeros"] == "review"
    assert data["limits"]["max_rows"] == 100_000


def test_unknown_profile() -> None:
    with pytest.raises(InvalidInput, match="unknown disclosure profile 'de'"):
        load_profile("de")


def _write(tmp_path: Path, **changes: object) -> Path:
    text = (Path(__file__).parents[2] / "src/agoria_tre/disclosure/profiles/fr.yaml").read_text()
    data = yaml.safe_load(text)
    for key, value in changes.items():
        if value is None:
            del data[key]
        else:
            data[key] = value
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_operator_file(tmp_path: Path) -> None:
    policy = load_policy_file(_write(tmp_path, name="cnil-strict", threshold=20))
    assert (policy.name, policy.threshold) == ("cnil-strict", 20)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"thresold": 11}, "unknown key(s) thresold"),
        ({"threshold": None}, "missing key(s) threshold"),
        ({"threshold": 0}, "threshold must be a whole number >= 1"),
        ({"threshold": "11"}, "threshold must be a whole number"),
        ({"threshold": True}, "threshold must be a whole number"),
        ({"zeros": "maybe"}, "zeros must be one of pass, review, fail"),
        ({"p_percent": 10}, "p_percent must be a number in (0, 1]"),
        ({"dominance": {"n": 2}}, "missing key(s) k in dominance"),
        ({"dominance": {"n": 2, "k": 0.9, "m": 1}}, "unknown key(s) m in dominance"),
        ({"limits": {"max_rows": 5}}, "missing key(s)"),
    ],
)
def test_bad_policy_files_name_the_key(
    tmp_path: Path, changes: dict[str, object], message: str
) -> None:
    with pytest.raises(InvalidInput, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_policy_file(_write(tmp_path, **changes))


def test_not_yaml(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text("threshold: [11\n")
    with pytest.raises(InvalidInput, match="not valid YAML"):
        load_policy_file(path)


def test_worst() -> None:
    assert worst([]) is Status.PASS
    assert worst([Status.PASS, Status.REVIEW]) is Status.REVIEW
    assert worst([Status.REVIEW, Status.FAIL, Status.PASS]) is Status.FAIL
