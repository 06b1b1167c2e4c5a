"""safe.crosstab and safe.pivot_table: pandas' results, plus evidence the checker trusts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from agoria_tre import safe
from agoria_tre.disclosure.checker import Context, check_bytes
from agoria_tre.disclosure.policy import load_profile
from agoria_tre.disclosure.report import ItemReport
from agoria_tre.disclosure.status import Status

FR = load_profile("fr")


@pytest.fixture
def cohort() -> pd.DataFrame:
    """3,000 rows; drug C is rare on purpose: exactly 5 women and 7 men."""
    rng = np.random.default_rng(42)
    n = 2988
    common = pd.DataFrame(
        {
            "sex": rng.choice(["F", "M"], n),
            "drug": rng.choice(["A", "B"], n, p=[0.6, 0.4]),
            "dept": rng.choice(["69", "75", "2A"], n),
            "dose": np.round(rng.gamma(2.0, 10.0, n), 3),
            "patient": rng.integers(0, 700, n),
        }
    )
    rare = pd.DataFrame(
        {
            "sex": ["F"] * 5 + ["M"] * 7,
            "drug": ["C"] * 12,
            "dept": ["69"] * 12,
            "dose": np.linspace(5.0, 30.0, 12),
            "patient": range(900, 912),
        }
    )
    return pd.concat([common, rare], ignore_index=True)


def verdict(folder: Path, stem: str) -> ItemReport:
    return check_bytes(
        f"{stem}.csv",
        (folder / f"{stem}.csv").read_bytes(),
        Context(FR),
        evidence=(folder / f"{stem}.evidence.json").read_bytes(),
    ).report


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"margins": True},
        {"values": "dose", "aggfunc": "sum"},
        {"values": "dose", "aggfunc": "mean"},
        {"values": "dose", "aggfunc": "sum", "margins": True},
        {"values": "dose", "aggfunc": "mean", "margins": True},
        {"values": "dose", "aggfunc": "median"},
        {"normalize": "index"},
    ],
)
def test_crosstab_returns_what_pandas_returns(
    cohort: pd.DataFrame, tmp_path: Path, kwargs: dict[str, Any]
) -> None:
    arguments = {**kwargs}
    if "values" in arguments:
        arguments["values"] = cohort[arguments["values"]]
    ours = safe.crosstab(cohort.sex, cohort.drug, outputs=tmp_path, **arguments)
    theirs = pd.crosstab(cohort.sex, cohort.drug, **arguments)
    pd.testing.assert_frame_equal(ours, theirs, check_dtype=False, check_names=True)


def test_several_keys_make_a_multiindex_like_pandas(cohort: pd.DataFrame, tmp_path: Path) -> None:
    ours = safe.crosstab([cohort.sex, cohort.dept], cohort.drug, outputs=tmp_path)
    pd.testing.assert_frame_equal(
        ours, pd.crosstab([cohort.sex, cohort.dept], cohort.drug), check_dtype=False
    )
    evidence = json.loads((tmp_path / "crosstab_sex_dept_by_drug.evidence.json").read_text())
    assert evidence["label_columns"] == 2
    assert verdict(tmp_path, "crosstab_sex_dept_by_drug").rules  # the checker reads it back


def test_pivot_table_returns_what_pandas_returns(cohort: pd.DataFrame, tmp_path: Path) -> None:
    ours = safe.pivot_table(
        cohort, values="dose", index="sex", columns="drug", aggfunc="sum", outputs=tmp_path
    )
    theirs = cohort.pivot_table(values="dose", index="sex", columns="drug", aggfunc="sum")
    pd.testing.assert_frame_equal(ours, theirs, check_dtype=False, check_names=False)


def test_files_and_verdict(
    cohort: pd.DataFrame, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    safe.crosstab(cohort.sex, cohort.drug, outputs=tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "crosstab_sex_by_drug.csv",
        "crosstab_sex_by_drug.evidence.json",
    ]
    err = capsys.readouterr().err
    assert "[agoria-tre check] crosstab_sex_by_drug.csv: FAIL" in err
    assert "threshold: 2 cells with fewer than 11 units" in err
    report = verdict(tmp_path, "crosstab_sex_by_drug")
    assert report.status is Status.FAIL
    threshold = next(r for r in report.rules if r.rule == "threshold")
    assert threshold.cells == ((0, 2), (1, 2))
    assert threshold.asserted


def test_outputs_folder_from_the_environment(
    cohort: pd.DataFrame, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AGORIA_OUTPUTS", str(tmp_path / "from-env"))
    safe.crosstab(cohort.sex, cohort.drug, name="by_env")
    assert (tmp_path / "from-env" / "by_env.csv").exists()


def test_unit_counts_distinct_units_and_sums_their_contributions(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "sex": ["F"] * 4 + ["M"] * 3,
            "drug": ["A"] * 7,
            "dose": [50.0, 50.0, 1.0, 2.0, 5.0, 5.0, 5.0],
            "patient": ["p1", "p1", "p2", "p3", "p4", "p5", "p6"],
        }
    )
    counts = safe.crosstab(frame.sex, frame.drug, unit=frame.patient, outputs=tmp_path)
    assert counts.to_dict() == {"A": {"F": 3, "M": 3}}
    safe.crosstab(
        frame.sex,
        frame.drug,
        values=frame.dose,
        aggfunc="sum",
        unit=frame.patient,
        outputs=tmp_path,
        name="sums",
    )
    evidence = json.loads((tmp_path / "sums.evidence.json").read_text())
    assert evidence["units"] == [[3], [3]]
    assert evidence["top"][0][0] == [100.0, 2.0]  # p1's two rows are one contribution
    assert evidence["totals"] == [[103.0], [15.0]]


def test_suppress_hides_what_fails_and_what_would_reveal_it(
    cohort: pd.DataFrame, tmp_path: Path
) -> None:
    table = safe.crosstab(cohort.sex, cohort.drug, margins=True, suppress=True, outputs=tmp_path)
    assert table.loc[["F", "M"], "C"].isna().all()
    hidden = int(table.isna().to_numpy().sum())
    assert hidden >= 4  # the small cells, and partners so the margins do not give them away
    report = verdict(tmp_path, "crosstab_sex_by_drug")
    failing = [(r.rule, r.summary) for r in report.rules if r.status is Status.FAIL]
    assert failing == []
    assert next(r for r in report.rules if r.rule == "secondary_suppression").status is (
        Status.PASS
    )


def test_suppress_on_a_magnitude_table_hides_dominated_cells(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    frame = pd.DataFrame(
        {
            "site": rng.choice(["x", "y", "z"], 600),
            "arm": rng.choice(["a", "b"], 600),
            "cost": rng.gamma(2.0, 10.0, 600),
        }
    )
    frame.iloc[0] = pd.Series({"site": "x", "arm": "a", "cost": 1e6})  # one patient dominates
    table = safe.crosstab(
        frame.site,
        frame.arm,
        values=frame.cost,
        aggfunc="sum",
        suppress=True,
        outputs=tmp_path,
        name="cost",
    )
    assert table.isna().to_numpy()[0, 0]  # site x, arm a
    report = verdict(tmp_path, "cost")
    assert [r.rule for r in report.rules if r.status is Status.FAIL] == []


def test_wrong_arguments_are_refused_like_pandas(cohort: pd.DataFrame, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="values and aggfunc go together"):
        safe.crosstab(cohort.sex, cohort.drug, values=cohort.dose, outputs=tmp_path)


def test_the_notebook_view_highlights_flagged_cells(cohort: pd.DataFrame, tmp_path: Path) -> None:
    from agoria_tre.safe.outputs import table_html

    table = safe.crosstab(cohort.sex, cohort.drug, outputs=tmp_path)
    page = table_html(table, verdict(tmp_path, "crosstab_sex_by_drug"))
    red = "background:#b4231833"
    assert page.count(red) == 2  # drug C for women and men
    assert f"<td style='{red}' title='fail'>5</td>" in page
    assert f"<td style='{red}' title='fail'>7</td>" in page


@pytest.mark.parametrize("margins", [False, True])
def test_means_over_missing_values_pass_their_own_check(tmp_path: Path, margins: bool) -> None:
    rng = np.random.default_rng(9)
    frame = pd.DataFrame(
        {
            "a": rng.choice(["x", "y"], 400),
            "b": rng.choice(["u", "v"], 400),
            "v": rng.gamma(2.0, 5.0, 400),
        }
    )
    frame.loc[frame.index % 7 == 0, "v"] = np.nan
    table = safe.crosstab(
        frame.a,
        frame.b,
        values=frame.v,
        aggfunc="mean",
        margins=margins,
        outputs=tmp_path,
        name="means",
    )
    expected = pd.crosstab(frame.a, frame.b, values=frame.v, aggfunc="mean", margins=margins)
    pd.testing.assert_frame_equal(table, expected, check_dtype=False)
    report = verdict(tmp_path, "means")
    assert "evidence.consistency" not in {r.rule for r in report.rules}
    assert next(r for r in report.rules if r.rule == "missing_values").status is Status.REVIEW


def test_suppressed_zeros_are_not_shown_zeros_under_uk(tmp_path: Path) -> None:
    uk = load_profile("uk")
    frame = pd.DataFrame(
        {
            "a": ["x"] * 40 + ["y"] * 25 + ["z"] * 30,
            "b": ["u"] * 20 + ["v"] * 20 + ["u"] * 25 + ["u"] * 15 + ["v"] * 15,
        }
    )
    safe.crosstab(frame.a, frame.b, suppress=True, outputs=tmp_path, name="z", policy=uk)
    text = (tmp_path / "z.csv").read_text()
    assert "*" in text  # y/v is a zero: hidden, and marked as hidden
    report = check_bytes(
        "z.csv",
        (tmp_path / "z.csv").read_bytes(),
        Context(uk),
        evidence=(tmp_path / "z.evidence.json").read_bytes(),
    ).report
    assert [r.rule for r in report.rules if r.status is Status.FAIL] == []


def test_misaligned_series_are_refused(cohort: pd.DataFrame, tmp_path: Path) -> None:
    shifted = cohort.drug.copy()
    shifted.index = shifted.index + 1
    with pytest.raises(ValueError, match="different indexes"):
        safe.crosstab(cohort.sex, shifted, outputs=tmp_path)


def test_an_unnamed_aggregation_goes_to_review(cohort: pd.DataFrame, tmp_path: Path) -> None:
    safe.crosstab(
        cohort.sex,
        cohort.drug,
        values=cohort.dose,
        aggfunc=lambda v: v.max(),
        outputs=tmp_path,
        name="custom",
    )
    report = verdict(tmp_path, "custom")
    assert next(r for r in report.rules if r.rule == "evidence.statistic").status is Status.REVIEW


def test_pivot_fill_value_is_what_is_written(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {"a": ["x"] * 30 + ["y"] * 30, "b": ["u"] * 30 + ["v"] * 30, "v": np.arange(60.0)}
    )
    table = safe.pivot_table(
        frame,
        values="v",
        index="a",
        columns="b",
        aggfunc="sum",
        fill_value=0,
        outputs=tmp_path,
        name="filled",
    )
    expected = frame.pivot_table(values="v", index="a", columns="b", aggfunc="sum", fill_value=0)
    pd.testing.assert_frame_equal(table, expected, check_dtype=False, check_names=False)
    assert (tmp_path / "filled.csv").read_text().splitlines()[1:] == ["x,435.0,0.0", "y,0.0,1335.0"]
