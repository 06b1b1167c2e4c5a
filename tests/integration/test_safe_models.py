"""``safe.ols/logit/probit``, ``safe.surv_func`` and ``safe.hist``: what statsmodels and
matplotlib return, plus the files the checker reads, and the checker's verdict on them.

Data are synthetic, drawn here from seeded generators; every output goes to ``tmp_path``.
The verdicts come from the real checker run on the bytes written to disk.
"""

from __future__ import annotations

import json
import pickle
import re
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from matplotlib.container import BarContainer
from statsmodels.discrete.discrete_model import Logit, Probit
from statsmodels.duration.survfunc import SurvfuncRight
from statsmodels.regression.linear_model import OLS

from agoria_tre.disclosure.checker import Context, check_bytes
from agoria_tre.disclosure.policy import load_profile
from agoria_tre.disclosure.report import ItemReport
from agoria_tre.disclosure.status import Status
from agoria_tre.safe.models import logit, ols, probit
from agoria_tre.safe.plots import hist
from agoria_tre.safe.survival import surv_func

POLICY = load_profile("fr")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


# -- helpers -----------------------------------------------------------------------------------


def checked(folder: Path, filename: str, *, sidecar: str | None = None) -> ItemReport:
    """The checker's report on a written file, with the sidecar of its stem if there is one."""
    path = folder / filename
    evidence = folder / (sidecar or f"{path.stem}.evidence.json")
    return check_bytes(
        filename,
        path.read_bytes(),
        Context(POLICY),
        evidence=evidence.read_bytes() if evidence.is_file() else None,
    ).report


def not_passed(report: ItemReport) -> dict[str, Status]:
    return {r.rule: r.status for r in report.rules if r.status is not Status.PASS}


def rule(report: ItemReport, name: str) -> Any:
    (found,) = [r for r in report.rules if r.rule == name]
    return found


def sidecar(folder: Path, stem: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((folder / f"{stem}.evidence.json").read_text())
    return loaded


def regression_data(rows: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"x1": rng.normal(size=rows), "x2": rng.normal(size=rows)})
    frame["y"] = 1.0 + 2.0 * frame.x1 - frame.x2 + rng.normal(size=rows)
    frame["b"] = (frame.y + rng.normal(size=rows) > 1.0).astype(int)
    frame["patient"] = np.arange(rows) // 4  # four visits per patient
    return frame


def without_clock(summary: str) -> str:
    """A summary with the print date and time blanked: they change between two calls."""
    summary = re.sub(r"\w{3}, \d{2} \w{3} \d{4}", "DATE", summary)
    return re.sub(r"\d{2}:\d{2}:\d{2}", "TIME", summary)


# -- models ------------------------------------------------------------------------------------


def test_ols_returns_statsmodels_model_and_results_and_writes_summary(tmp_path: Path) -> None:
    data = regression_data(200, seed=1)
    model = ols("y ~ x1 + x2", data, outputs=tmp_path, policy=POLICY)
    expected = smf.ols("y ~ x1 + x2", data).fit()

    assert type(model) is OLS
    assert not list(tmp_path.iterdir())  # nothing is written before the fit
    results = model.fit()

    assert type(results) is type(expected)
    assert results.model is model
    pd.testing.assert_series_equal(results.params, expected.params)
    pd.testing.assert_series_equal(results.bse, expected.bse)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "ols_y_on_x1_x2.evidence.json",
        "ols_y_on_x1_x2.txt",
    ]
    written = (tmp_path / "ols_y_on_x1_x2.txt").read_text()
    assert without_clock(written) == without_clock(str(expected.summary()))
    assert re.search(r"Date:\s+\w{3}, \d{2} \w{3} \d{4}", written)  # kept, for the reviewers
    assert sidecar(tmp_path, "ols_y_on_x1_x2") == {
        "schema": "urn:agoria-tre:evidence:1",
        "output": "ols_y_on_x1_x2.txt",
        "kind": "model",
        "statistic": "model",
        "label_columns": 0,
        "model": {
            "family": "OLS",
            "nobs": 200,
            "df_resid": 197,
            "df_model": 2,
            "formula": "y ~ x1 + x2",
        },
    }


def test_a_healthy_model_passes_its_print_date_being_no_identifier(tmp_path: Path) -> None:
    ols("y ~ x1 + x2", regression_data(200, seed=2), outputs=tmp_path, policy=POLICY).fit()

    report = checked(tmp_path, "ols_y_on_x1_x2.txt")

    assert report.status is Status.PASS, not_passed(report)
    assert "Date:" in (tmp_path / "ols_y_on_x1_x2.txt").read_text()
    assert {r.rule for r in report.rules if r.rule == "model.dof"} == {"model.dof"}


def test_a_model_of_8_rows_and_2_regressors_fails_on_degrees_of_freedom(tmp_path: Path) -> None:
    results = ols("y ~ x1 + x2", regression_data(8, seed=3), outputs=tmp_path, policy=POLICY).fit()

    assert results.df_resid == 5
    assert sidecar(tmp_path, "ols_y_on_x1_x2")["model"]["df_resid"] == 5
    report = checked(tmp_path, "ols_y_on_x1_x2.txt")
    assert report.status is Status.FAIL
    assert rule(report, "model.dof").status is Status.FAIL
    assert "5 residual degrees of freedom, fewer than 10" in rule(report, "model.dof").summary


@pytest.mark.parametrize(
    ("helper", "reference", "family", "model_type"),
    [(logit, smf.logit, "Logit", Logit), (probit, smf.probit, "Probit", Probit)],
)
def test_binary_models_match_statsmodels(
    tmp_path: Path, helper: Any, reference: Any, family: str, model_type: type
) -> None:
    data = regression_data(400, seed=4)
    model = helper("b ~ x1 + x2", data, outputs=tmp_path, policy=POLICY)
    expected = reference("b ~ x1 + x2", data).fit(disp=0)

    results = model.fit(disp=0)

    assert type(model) is model_type
    assert type(results) is type(expected)
    pd.testing.assert_series_equal(results.params, expected.params)
    stem = f"{family.lower()}_b_on_x1_x2"
    assert sidecar(tmp_path, stem)["model"] == {
        "family": family,
        "nobs": 400,
        "df_resid": 397,
        "df_model": 2,
        "formula": "b ~ x1 + x2",
    }
    assert checked(tmp_path, f"{stem}.txt").status is Status.PASS


def test_unit_records_distinct_units_only_when_units_repeat(tmp_path: Path) -> None:
    data = regression_data(200, seed=5)
    data.loc[3, "x1"] = np.nan  # dropped by the formula: its unit still has three rows

    ols("y ~ x1", data, unit="patient", name="visits", outputs=tmp_path, policy=POLICY).fit()
    data["person"] = np.arange(200)
    ols("y ~ x1", data, unit="person", name="people", outputs=tmp_path, policy=POLICY).fit()

    visits = sidecar(tmp_path, "visits")
    assert visits["unit"] == "patient"
    assert visits["model"]["nobs"] == 199
    assert visits["model"]["units"] == 50
    assert "units" not in sidecar(tmp_path, "people")["model"]


def test_formula_names_resolve_in_the_callers_frame_and_subset_applies(tmp_path: Path) -> None:
    def doubled(values: pd.Series) -> pd.Series:
        return values * 2

    data = regression_data(100, seed=6)
    model = ols(
        "y ~ doubled(x1)", data, subset=data.x2 > 0, name="mine", outputs=tmp_path, policy=POLICY
    )
    expected = smf.ols("y ~ doubled(x1)", data, subset=data.x2 > 0).fit()

    results = model.fit()

    assert model.exog_names == ["Intercept", "doubled(x1)"]
    assert results.nobs == expected.nobs == (data.x2 > 0).sum()
    pd.testing.assert_series_equal(results.params, expected.params)
    assert (tmp_path / "mine.txt").is_file()


def test_fitted_results_still_pickle(tmp_path: Path) -> None:
    results = ols("y ~ x1", regression_data(50, seed=7), outputs=tmp_path, policy=POLICY).fit()

    restored = pickle.loads(pickle.dumps(results))  # noqa: S301 - our own bytes

    pd.testing.assert_series_equal(restored.params, results.params)


# -- survival ----------------------------------------------------------------------------------


def km_table(folder: Path, stem: str) -> pd.DataFrame:
    # round_trip: the floats written, bit for bit (pandas 2 parses faster but not exactly)
    return pd.read_csv(
        folder / f"{stem}.csv", index_col=0, keep_default_na=False, float_precision="round_trip"
    )


def test_surv_func_returns_statsmodels_estimate_and_writes_the_km_table(tmp_path: Path) -> None:
    rng = np.random.default_rng(10)
    time = pd.Series(rng.integers(1, 40, size=300).astype(float), name="futime")
    status = rng.integers(0, 2, size=300)

    sf = surv_func(time, status, outputs=tmp_path, policy=POLICY)
    expected = SurvfuncRight(time, status)

    assert type(sf) is SurvfuncRight
    for attribute in ("surv_times", "surv_prob", "surv_prob_se", "n_risk", "n_events"):
        np.testing.assert_array_equal(getattr(sf, attribute), getattr(expected, attribute))
    table = km_table(tmp_path, "km_futime")
    assert table.index.name == "time"
    assert list(table.columns) == ["at risk", "events", "survival", "std err"]
    np.testing.assert_array_equal(table.index.to_numpy(dtype=float), expected.surv_times)
    np.testing.assert_array_equal(table["at risk"], expected.n_risk)
    np.testing.assert_array_equal(table["events"], expected.n_events)
    np.testing.assert_allclose(table["survival"], expected.surv_prob, rtol=1e-15)
    evidence = sidecar(tmp_path, "km_futime")
    assert evidence["kind"] == "survival"
    assert evidence["label_columns"] == 1
    units = np.array(evidence["units"])
    np.testing.assert_array_equal(units[:, 0], expected.n_risk)
    np.testing.assert_array_equal(units[:, 1], expected.n_events)
    assert not units[:, 2:].any()


def test_a_km_table_with_a_tail_of_5_at_risk_fails(tmp_path: Path) -> None:
    # 11 deaths on each of days 1 to 20, then five patients: one dies on day 25, four are
    # censored on day 30. Every step has 16 or more at risk and 11 deaths, but day 25's.
    time = np.concatenate([np.repeat(np.arange(1.0, 21.0), 11), [25.0], [30.0] * 4])
    status = np.concatenate([np.ones(220, dtype=int), [1], np.zeros(4, dtype=int)])

    surv_func(time, status, name="tail", outputs=tmp_path, policy=POLICY)

    table = km_table(tmp_path, "tail")
    assert table["at risk"].iloc[-1] == 5
    report = checked(tmp_path, "tail.csv")
    assert report.status is Status.FAIL
    last = table.shape[0] - 1
    assert rule(report, "survival.at_risk").status is Status.FAIL
    assert rule(report, "survival.at_risk").cells == ((last, 0),)
    assert rule(report, "survival.events").cells == ((last, 1),)


def test_a_large_km_table_with_enough_units_at_every_step_passes(tmp_path: Path) -> None:
    rng = np.random.default_rng(11)
    time = rng.integers(1, 11, size=3000).astype(float)
    status = (rng.random(3000) < 0.5).astype(int)

    surv_func(time, status, name="large", outputs=tmp_path, policy=POLICY)

    table = km_table(tmp_path, "large")
    assert (table["at risk"] >= POLICY.threshold).all()
    assert ((table["events"] == 0) | (table["events"] >= POLICY.threshold)).all()
    report = checked(tmp_path, "large.csv")
    assert report.status is Status.PASS, not_passed(report)


def test_intervals_turn_a_failing_km_table_into_a_passing_life_table(tmp_path: Path) -> None:
    rng = np.random.default_rng(12)
    death = rng.exponential(500.0, size=3000)
    status = (death <= 720).astype(int)  # administrative censoring after two years
    time = np.minimum(death, 720.0)

    raw = surv_func(time, status, name="raw", outputs=tmp_path, policy=POLICY)
    grouped = surv_func(time, status, interval=30, name="monthly", outputs=tmp_path, policy=POLICY)

    assert checked(tmp_path, "raw.csv").status is Status.FAIL
    assert rule(checked(tmp_path, "raw.csv"), "survival.events").status is Status.FAIL
    report = checked(tmp_path, "monthly.csv")
    assert report.status is Status.PASS, not_passed(report)
    np.testing.assert_array_equal(grouped.surv_prob, raw.surv_prob)  # the estimate is untouched
    table = km_table(tmp_path, "monthly")
    assert list(table.index[:2]) == ["[0, 30)", "[30, 60)"]
    assert table.index[-1] == "[690, 720)"
    assert table["events"].sum() == status.sum()
    starts = np.arange(0.0, 720.0, 30.0)
    np.testing.assert_array_equal(table["at risk"], [(time >= a).sum() for a in starts])
    ends = np.searchsorted(raw.surv_times, starts + 30, side="left") - 1
    np.testing.assert_array_equal(table["survival"], raw.surv_prob[ends])
    assert sidecar(tmp_path, "monthly")["statistic"] == "kaplan-meier, intervals of 30"


def test_interval_counts_agree_with_statsmodels_under_entry_and_weights(tmp_path: Path) -> None:
    rng = np.random.default_rng(13)
    time = rng.integers(2, 30, size=500).astype(float)
    entry = np.floor(rng.random(500) * (time - 1))
    status = rng.integers(0, 2, size=500)
    weights = rng.integers(1, 4, size=500)

    sf = surv_func(
        time,
        status,
        entry=entry,
        freq_weights=weights,
        interval=1,  # one event time per interval: the counts must be statsmodels'
        name="weighted",
        outputs=tmp_path,
        policy=POLICY,
    )

    table = km_table(tmp_path, "weighted")
    shown = table[table["events"] > 0]
    np.testing.assert_array_equal(shown["at risk"], sf.n_risk)
    np.testing.assert_array_equal(shown["events"], sf.n_events)
    np.testing.assert_allclose(shown["survival"], sf.surv_prob, rtol=1e-15)


def test_unit_counts_distinct_units_in_the_survival_evidence(tmp_path: Path) -> None:
    # Start-stop rows: each of 40 patients is split at day 5 into two rows.
    rng = np.random.default_rng(14)
    stop = rng.integers(6, 20, size=40).astype(float)
    time = np.concatenate([np.full(40, 5.0), stop])
    entry = np.concatenate([np.zeros(40), np.full(40, 5.0)])
    status = np.concatenate([np.zeros(40, dtype=int), np.ones(40, dtype=int)])
    patient = pd.Series(np.tile(np.arange(40), 2), name="patient")

    surv_func(
        time, status, entry=entry, unit=patient, name="split", outputs=tmp_path, policy=POLICY
    )

    evidence = sidecar(tmp_path, "split")
    assert evidence["unit"] == "patient"
    table = km_table(tmp_path, "split")
    units = np.array(evidence["units"])
    np.testing.assert_array_equal(units[:, 0], table["at risk"])  # one row per unit at a time
    np.testing.assert_array_equal(units[:, 1], table["events"])


def test_interval_must_be_positive(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="interval must be a positive number"):
        surv_func([1.0, 2.0], [1, 1], interval=0, outputs=tmp_path, policy=POLICY)


# -- histograms --------------------------------------------------------------------------------


def pyplot_hist(x: Any, **kwargs: Any) -> tuple[Any, Any, Any]:
    figure = plt.figure()
    try:
        return plt.hist(x, **kwargs)
    finally:
        plt.close(figure)


def rectangles(patches: BarContainer) -> list[tuple[float, float, float, float]]:
    return [(p.get_x(), p.get_y(), p.get_width(), p.get_height()) for p in patches]


@pytest.mark.parametrize(
    "options",
    [{}, {"bins": 7, "range": (-3.0, 3.0)}, {"bins": "auto", "density": True}],
    ids=["default", "bounded", "auto-density"],
)
def test_hist_returns_what_pyplot_hist_returns(tmp_path: Path, options: dict[str, Any]) -> None:
    x = np.random.default_rng(20).normal(size=500)

    n, bins, patches = hist(x, name="h", outputs=tmp_path, policy=POLICY, **options)
    expected_n, expected_bins, expected_patches = pyplot_hist(x, **options)

    np.testing.assert_array_equal(n, expected_n)
    np.testing.assert_array_equal(bins, expected_bins)
    assert type(n) is type(expected_n)
    assert type(bins) is type(expected_bins)
    assert type(patches) is type(expected_patches) is BarContainer
    assert rectangles(patches) == rectangles(expected_patches)
    assert (tmp_path / "h.png").read_bytes().startswith(PNG_SIGNATURE)
    counts = pd.read_csv(tmp_path / "h.csv", index_col=0)
    np.testing.assert_array_equal(counts["count"], np.histogram(x, bins=expected_bins)[0])


def test_hist_writes_png_counts_and_one_sidecar(tmp_path: Path) -> None:
    x = pd.Series(np.random.default_rng(21).normal(50, 10, size=1000), name="age")

    n, bins, _ = hist(x, bins=5, range=(0, 100), outputs=tmp_path, policy=POLICY)

    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "hist_age.csv",
        "hist_age.evidence.json",
        "hist_age.png",
    ]
    assert (tmp_path / "hist_age.csv").read_text().splitlines() == [
        "bin,count",
        *(
            f'"{label}",{int(c)}'
            for label, c in zip(
                ["[0, 20)", "[20, 40)", "[40, 60)", "[60, 80)", "[80, 100]"], n, strict=True
            )
        ),
    ]
    evidence = sidecar(tmp_path, "hist_age")
    assert evidence["kind"] == "histogram"
    assert evidence["label_columns"] == 1
    assert evidence["units"] == [[int(c)] for c in n]
    assert evidence["histogram"] == {
        "edges": list(bins),
        "counts": [int(c) for c in n],
        "bounded": True,
    }
    # The picture shows the same small outer bins as the CSV: its sidecar makes it fail too.
    image = checked(tmp_path, "hist_age.png")
    small = [i for i, c in enumerate(n) if 0 < c < POLICY.threshold]
    assert small, "the outer bins of this sample are small"
    assert not_passed(image) == {"image.unchecked": Status.REVIEW, "threshold": Status.FAIL}
    threshold = next(r for r in image.rules if r.rule == "threshold")
    assert [i for i, _ in threshold.cells] == small


def test_a_histogram_bin_of_3_fails_the_threshold(tmp_path: Path) -> None:
    rng = np.random.default_rng(22)
    x = np.concatenate([rng.uniform(0, 90, size=900), rng.uniform(90, 100, size=3)])

    n, _, _ = hist(x, bins=10, range=(0, 100), name="small", outputs=tmp_path, policy=POLICY)

    assert n[-1] == 3
    report = checked(tmp_path, "small.csv")
    assert report.status is Status.FAIL
    assert rule(report, "threshold").status is Status.FAIL
    assert rule(report, "threshold").cells == ((9, 0),)
    assert rule(report, "threshold").asserted


def test_unbounded_edges_are_the_data_extremes_and_go_to_review(tmp_path: Path) -> None:
    x = np.random.default_rng(23).normal(100, 5, size=5000)

    hist(x, bins=5, name="open", outputs=tmp_path, policy=POLICY)
    hist(x, bins=5, range=(80, 120), name="bounded", outputs=tmp_path, policy=POLICY)
    hist(x, bins=5, range=(x.min(), x.max()), name="fake", outputs=tmp_path, policy=POLICY)
    hist(x, bins=[70, 90, 100, 110, 130], name="edges", outputs=tmp_path, policy=POLICY)

    edges = sidecar(tmp_path, "open")["histogram"]["edges"]
    assert (edges[0], edges[-1]) == (x.min(), x.max())
    assert sidecar(tmp_path, "open")["histogram"]["bounded"] is False
    assert sidecar(tmp_path, "bounded")["histogram"]["bounded"] is True
    assert sidecar(tmp_path, "fake")["histogram"]["bounded"] is False
    assert sidecar(tmp_path, "edges")["histogram"]["bounded"] is True
    assert rule(checked(tmp_path, "open.csv"), "histogram.edges").status is Status.REVIEW
    assert rule(checked(tmp_path, "fake.csv"), "histogram.edges").status is Status.REVIEW
    bounded = checked(tmp_path, "bounded.csv")
    assert rule(bounded, "histogram.edges").status is Status.PASS
    assert bounded.status is Status.PASS, not_passed(bounded)


def test_hist_counts_observations_whatever_the_bars_show(tmp_path: Path) -> None:
    rng = np.random.default_rng(24)
    first, second = rng.normal(size=400), rng.normal(1, 1, size=300)

    n, bins, _ = hist(
        [first, second],
        bins=4,
        range=(-2, 3),
        density=True,
        label=["control", "treated"],
        name="two",
        outputs=tmp_path,
        policy=POLICY,
    )

    expected_n, _, _ = pyplot_hist(
        [first, second], bins=4, range=(-2, 3), density=True, label=["control", "treated"]
    )
    np.testing.assert_array_equal(n, expected_n)
    counts = pd.read_csv(tmp_path / "two.csv", index_col=0)
    assert list(counts.columns) == ["count control", "count treated"]
    np.testing.assert_array_equal(counts["count control"], np.histogram(first, bins)[0])
    np.testing.assert_array_equal(counts["count treated"], np.histogram(second, bins)[0])


def test_hist_unit_counts_distinct_units_per_bin(tmp_path: Path) -> None:
    values = np.array([1.0, 1.5, 1.2, 5.0, 5.5, 9.0])
    patient = pd.Series(["a", "a", "b", "c", "c", "c"], name="patient")

    hist(values, bins=3, range=(0, 10), unit=patient, name="u", outputs=tmp_path, policy=POLICY)

    evidence = sidecar(tmp_path, "u")
    assert evidence["unit"] == "patient"
    assert evidence["units"] == [[2], [1], [1]]
    assert evidence["histogram"]["counts"] == [3, 2, 1]
