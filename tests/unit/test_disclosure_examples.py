"""The labelled example files (tests/data/disclosure/<rule>/<status>/<file>, described in its
README.md): each file checked as a researcher's output, the rule of its folder gives it exactly
the status of its subfolder, and a ``pass`` example is a sound output as a whole."""

from __future__ import annotations

from pathlib import Path

import pytest

from agoria_tre.disclosure.checker import check_bytes
from agoria_tre.disclosure.evidence import SUFFIX as SIDECAR
from agoria_tre.disclosure.registry import REGISTRY
from agoria_tre.disclosure.report import ItemReport, walk
from agoria_tre.disclosure.status import Status
from tests.unit.disclosure_support import EXAMPLES, FR, found

LABELS = {"pass": Status.PASS, "review": Status.REVIEW, "fail": Status.FAIL}

# Rules that report only what they find: where they find nothing they give no result at all,
# so their pass examples show no result of theirs.
FINDINGS_ONLY = frozenset(
    {
        "file.type",
        "file.limits",
        "file.unreadable",
        "identifier.nir",
        "identifier.email",
        "identifier.phone",
        "identifier.date",
        "identifier.pseudonym",
        "table.unparsed",
        "table.structure",
        "threshold.labels",
        "threshold.text",
        "suppression.markers",
        "percent.denominator",
        "magnitude.evidence",
        "statistic.extremes",
        "evidence.consistency",
    }
)

# Pass examples whose rule passes but whose file, as a whole, cannot: the status it gets.
NOT_SOUND_AS_A_WHOLE = {
    # sums and means without evidence of their contributors are magnitudes for review
    "statistic.implied_count/pass/sums_and_means_of_large_groups.csv": Status.REVIEW,
}

# Rules a single file cannot trigger: they compare the files of a folder, or read ACRO's
# records of one.
FOLDER_RULES = frozenset({"file.path", "differencing"}) | {
    rule for rule in REGISTRY if rule.startswith("acro.")
}


def _examples() -> list[str]:
    return sorted(
        path.relative_to(EXAMPLES).as_posix()
        for path in EXAMPLES.rglob("*")
        if path.is_file() and path.name != "README.md" and not path.name.endswith(SIDECAR)
    )


def _sidecar(file: Path) -> Path:
    """``<stem>.evidence.json`` beside ``<stem>.<suffix>``, as the researcher-side helpers
    write it."""
    return file.with_name(file.name.rsplit(".", 1)[0] + SIDECAR)


def _checked(example: str) -> ItemReport:
    file = EXAMPLES / example
    sidecar = _sidecar(file)
    evidence = sidecar.read_bytes() if sidecar.exists() else None
    return check_bytes(file.name, file.read_bytes(), FR, evidence=evidence).report


def _results(item: ItemReport) -> list[tuple[str, str, str]]:
    return [(r.rule, r.status.value, r.summary) for node in walk([item]) for r in node.rules]


@pytest.mark.parametrize("example", _examples())
def test_the_rule_of_the_folder_gives_the_labelled_status(example: str) -> None:
    rule, label, _ = example.split("/")
    expected = LABELS[label]
    item = _checked(example)
    statuses = found(item)
    if expected is Status.PASS and rule in FINDINGS_ONLY:
        assert statuses.get(rule, Status.PASS) is Status.PASS, _results(item)
    else:
        assert statuses.get(rule) is expected, _results(item)
    if expected is Status.PASS:
        assert item.status is NOT_SOUND_AS_A_WHOLE.get(example, Status.PASS), _results(item)
    else:  # the worst status of the file's rules wins
        assert item.status in {expected, Status.FAIL}, _results(item)


def test_every_folder_names_a_rule_of_the_registry() -> None:
    folders = {path.name for path in EXAMPLES.iterdir() if path.is_dir()}
    assert folders
    assert folders <= set(REGISTRY), sorted(folders - set(REGISTRY))


def test_every_label_is_pass_review_or_fail() -> None:
    labels = {path.name for path in EXAMPLES.glob("*/*") if path.is_dir()}
    assert labels <= set(LABELS), sorted(labels - set(LABELS))


def test_every_file_is_an_example_under_its_label_or_the_sidecar_of_one() -> None:
    for path in EXAMPLES.rglob("*"):
        if path.is_dir() or path == EXAMPLES / "README.md":
            continue
        assert len(path.relative_to(EXAMPLES).parts) == 3, path
        if path.name.endswith(SIDECAR):
            stem = path.name.removesuffix(SIDECAR)
            examples = [
                p for p in path.parent.iterdir() if p != path and p.name.startswith(stem + ".")
            ]
            assert examples, path


def test_every_rule_a_file_can_trigger_has_examples() -> None:
    folders = {path.name for path in EXAMPLES.iterdir() if path.is_dir()}
    assert set(REGISTRY) - folders == FOLDER_RULES


def test_every_named_exception_is_a_rule_or_an_example() -> None:
    assert set(FINDINGS_ONLY) <= set(REGISTRY)
    assert set(NOT_SOUND_AS_A_WHOLE) <= set(_examples())


def test_examples_are_small() -> None:
    sizes = {example: (EXAMPLES / example).stat().st_size for example in _examples()}
    assert max(sizes.values()) <= 16_000, max(sizes, key=sizes.__getitem__)
