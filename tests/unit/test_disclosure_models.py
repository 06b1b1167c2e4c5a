"""Models and survival tables. Model summaries in a text (disclosure/readers/models.py):
statsmodels' summary() and summary2(), lifelines' print_summary(); each summary's span and the
facts its header prints. Then the rules on them: residual degrees of freedom (``model.dof``) in
a summary or a test's result, and the units at risk and the events at each step of a survival
table (``survival.at_risk``, ``survival.events``)."""

from __future__ import annotations

import contextlib
import io
import itertools
import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from lifelines import CoxPHFitter

from agoria_tre.disclosure.readers.models import ModelSummary, find_models, outside
from agoria_tre.disclosure.rules import statistics
from agoria_tre.disclosure.status import Status
from tests.unit.disclosure_support import (
    FR,
    check,
    example,
    failed,
    flagged_rules,
    found,
    rules,
)

N = 40


def _ols(n: int, seed: int) -> Any:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 2))
    y = 1 + x @ np.array([0.5, -0.3]) + rng.normal(size=n)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scipy's small-sample warnings for the omnibus tests
        return sm.OLS(y, sm.add_constant(x)).fit()


@pytest.fixture(scope="module")
def ols() -> Any:
    return _ols(N, 7)


@pytest.fixture(scope="module")
def logit_text() -> str:
    rng = np.random.default_rng(7)
    x = rng.normal(size=(N, 2))
    y = (x @ np.array([1.0, -1.0]) + rng.normal(size=N) > 0).astype(int)
    return str(sm.Logit(y, sm.add_constant(x)).fit(disp=0).summary().as_text())


@pytest.fixture(scope="module")
def cox() -> tuple[str, int]:
    """lifelines' printed summary of a Cox model, and the number of events."""
    rng = np.random.default_rng(7)
    frame = pd.DataFrame(
        {
            "T": rng.exponential(10, N).round(2),
            "E": rng.integers(0, 2, N),
            "age": rng.normal(60, 10, N).round(),
        }
    )
    fitted = CoxPHFitter().fit(frame, "T", "E")
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        fitted.print_summary()
    return printed.getvalue(), int(frame["E"].sum())


def facts(summary: ModelSummary) -> tuple[str, int | None, int | None, int | None]:
    return summary.family, summary.nobs, summary.df_resid, summary.events


def span(text: str, summary: ModelSummary) -> str:
    return text[summary.start : summary.end]


# --- statsmodels ------------------------------------------------------------------------------


def test_statsmodels_summary_gives_its_observations_and_residual_df(ols: Any) -> None:
    summary = ols.summary().as_text()
    text = f"We fitted 3 models.\n\n{summary}\n\nThe 2nd model is next.\n"
    [found] = find_models(text)
    assert facts(found) == ("OLS Regression Results", N, N - 3, None)
    # the span starts at the title's line (its indent included) and stops at the blank line
    assert text[found.start - 2 : found.start] == "\n\n"
    assert span(text, found).lstrip().startswith("OLS Regression Results")
    assert "Kurtosis:" in span(text, found)
    assert "The 2nd model" not in span(text, found)
    assert "3 models" not in span(text, found)


def test_statsmodels_summary2_includes_its_notes(ols: Any) -> None:
    summary = ols.summary2().as_text()
    text = f"{summary}\n\nafter 12 patients\n"
    [found] = find_models(text)
    assert facts(found) == ("Results: Ordinary least squares", N, N - 3, None)
    assert span(text, found).rstrip().endswith("correctly specified.")


def test_logit_summary_prints_its_facts_beside_the_model(logit_text: str) -> None:
    [found] = find_models(logit_text)
    assert facts(found) == ("Logit Regression Results", N, N - 3, None)
    # at the end of the text, the summary runs to the end
    assert found.end == len(logit_text)


def test_a_summary_without_observations_or_df_has_none() -> None:
    text = "  Results: Poisson\n=====\nconst  0.3  0.1\n=====\nregion  deaths\nCorse  3\n"
    [found] = find_models(text)
    assert facts(found) == ("Results: Poisson", None, None, None)
    # the summary ends at its closing rule: a table printed right after is not its own
    assert (found.start, found.end) == (0, text.index("\nregion"))


def test_a_title_without_statsmodels_rules_is_a_heading_not_a_summary() -> None:
    assert find_models("Results: Deaths by region\nregion  deaths\nCorse  3\n") == []


def test_statsmodels_summary_includes_its_notes(ols: Any) -> None:
    text = ols.summary().as_text()
    [found] = find_models(text)
    assert span(text, found).rstrip().endswith("correctly specified.")


# --- lifelines --------------------------------------------------------------------------------


def test_lifelines_summary_gives_observations_events_and_df(cox: tuple[str, int]) -> None:
    printed, events = cox
    text = f"Cox model on 40 patients:\n{printed}after 7 days\n"
    [found] = find_models(text)
    # one covariate: the likelihood-ratio test has 1 df
    assert facts(found) == ("CoxPHFitter", N, N - 1, events)
    assert span(text, found).startswith("<lifelines.CoxPHFitter: fitted with 40 total")
    last = span(text, found).rstrip().splitlines()[-1]
    assert last.startswith("-log2(p) of ll-ratio test = ")
    assert "after 7 days" not in span(text, found)
    assert "40 patients" not in span(text, found)


def test_lifelines_header_alone_gives_the_observations_of_its_title() -> None:
    text = (
        "<lifelines.WeibullAFTFitter: fitted with 25 total observations, 3 right-censored"
        " observations>\n  duration col = 'T'\n---\n  coef 0.5\n\nafter\n"
    )
    [found] = find_models(text)
    assert facts(found) == ("WeibullAFTFitter", 25, None, None)
    assert span(text, found).endswith("coef 0.5")


def test_lifelines_without_any_rule_or_blank_runs_to_the_end() -> None:
    text = "<lifelines.CoxPHFitter: fitted with 1 total observation>\nnumber of events observed = 1"
    [found] = find_models(text)
    assert facts(found) == ("CoxPHFitter", 1, None, 1)
    assert found.end == len(text)


# --- several summaries ------------------------------------------------------------------------


def test_summaries_are_found_in_order_of_position(
    ols: Any, logit_text: str, cox: tuple[str, int]
) -> None:
    printed, _ = cox
    text = f"{printed}\n{logit_text}\n\n{ols.summary2().as_text()}\n"
    families = [s.family for s in find_models(text)]
    assert families == [
        "CoxPHFitter",
        "Logit Regression Results",
        "Results: Ordinary least squares",
    ]


def test_a_summary_inside_another_is_not_read_twice() -> None:
    text = (
        "<lifelines.CoxPHFitter: fitted with 30 total observations>\n"
        "number of observations = 30\n"
        "Logit Regression Results\n"
        "No. Observations: 5\n"
        "---\ncoef\n---\nlog-likelihood ratio test = 2.1 on 2 df\n"
    )
    [found] = find_models(text)
    assert facts(found) == ("CoxPHFitter", 30, 28, None)


def test_back_to_back_summaries_are_blanked_whole_and_never_overlap(ols: Any) -> None:
    small = _ols(8, 1)
    text = f"{ols.summary2().as_text()}\n{small.summary2().as_text()}\n"
    found = find_models(text)
    assert all(a.end <= b.start for a, b in itertools.pairwise(found))
    assert outside(text, found).strip() == ""


def test_back_to_back_summaries_each_give_their_own_df(ols: Any) -> None:
    small = _ols(8, 1)
    text = f"{ols.summary2().as_text()}\n{small.summary2().as_text()}\n"
    assert [s.df_resid for s in find_models(text)] == [N - 3, 5]


# --- outside ----------------------------------------------------------------------------------


def test_outside_blanks_the_summaries_and_keeps_every_line_break(cox: tuple[str, int]) -> None:
    printed, _ = cox
    text = f"before: 3 patients\n{printed}between: 4 patients\n\n{printed}after: 5\n"
    found = find_models(text)
    assert len(found) == 2
    rest = outside(text, found)
    assert rest.count("\n") == text.count("\n")
    kept = [line for line in rest.splitlines() if line]
    assert kept == ["before: 3 patients", "between: 4 patients", "after: 5"]
    # what remains stays on its own line number
    assert rest.splitlines().index("after: 5") == text.splitlines().index("after: 5")


def test_outside_without_summaries_is_the_text() -> None:
    text = "a table\n1,2\n"
    assert find_models(text) == []
    assert outside(text, []) == text


# --- model.dof: residual degrees of freedom, in a summary or a test's result -----------------


@pytest.mark.parametrize(("dof", "expected"), [(9, Status.FAIL), (10, Status.PASS)])
def test_model_dof_boundary(dof: int, expected: Status) -> None:
    summary = (
        "                            OLS Regression Results\n"
        "Dep. Variable:      y   R-squared:    0.5\n"
        f"No. Observations:   {dof + 3}   AIC:   12.0\n"
        f"Df Residuals:       {dof}   BIC:   13.0\n"
    )
    results = statistics.model_summary(summary, FR.policy, where="out.txt")
    assert [(r.rule, r.status) for r in results] == [("model.dof", expected)]


def _small_frame(rows: int) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x": rng.normal(size=rows), "z": rng.normal(size=rows)})
    frame["y"] = frame.x + rng.normal(size=rows)
    frame["g"] = np.arange(rows) // 2
    return frame


def test_summary2_and_mixed_models_are_read() -> None:
    import statsmodels.formula.api as smf

    policy = FR.policy
    small = _small_frame(8)
    summary2 = str(smf.ols("y ~ x + z", small).fit().summary2())
    assert {r.status for r in statistics.model_summary(summary2, policy, where="s")} == {
        Status.FAIL
    }
    mixed = str(smf.mixedlm("y ~ x", small, groups=small.g).fit().summary())
    assert Status.FAIL in {r.status for r in statistics.model_summary(mixed, policy, where="m")}
    large = str(smf.ols("y ~ x + z", _small_frame(200)).fit().summary2())
    assert [r.status for r in statistics.model_summary(large, policy, where="l")] == [Status.PASS]


@pytest.mark.parametrize(
    "text",
    [
        "<F test: F=5.4979, p=0.0546, df_denom=5, df_num=2>",
        "TtestResult(statistic=np.float64(-4.65), pvalue=np.float64(0.0035), df=np.float64(6.0))",
        "Ttest_indResult(statistic=2.1, pvalue=0.07, df=5.73)",
    ],
)
def test_tests_with_few_degrees_of_freedom_fail(text: str) -> None:
    assert found(check("test.txt", text + "\n"))["model.dof"] is Status.FAIL


@pytest.mark.parametrize(
    "text",
    [
        "<F test: F=5.4979, p=0.0546, df_denom=50, df_num=2>",
        "TtestResult(statistic=1.2, pvalue=0.2, df=120.0)",
        "Chi2ContingencyResult(statistic=3.1, pvalue=0.2, dof=2)",  # a table's dof
        "df = load('cohort.parquet')",
    ],
)
def test_enough_degrees_of_freedom_pass(text: str) -> None:
    assert "model.dof" not in flagged_rules(check("test.txt", text + "\n"))


def test_summary_col_with_few_observations_fails() -> None:
    few = example("model.dof/fail/summary_col_of_eight_observations.txt")
    assert found(check("m.txt", few))["model.dof"] is Status.FAIL
    many = few.replace("N              8", "N              250")
    assert many != few
    assert "model.dof" not in flagged_rules(check("m.txt", many))


def test_a_table_printed_right_after_a_model_summary_is_checked() -> None:
    rng = np.random.default_rng(4)
    x = sm.add_constant(rng.normal(size=200))
    y = (x[:, 1] + rng.normal(size=200) > 0).astype(float)
    summary = str(sm.Logit(y, x).fit(disp=0).summary())
    table = "region  deaths\nCorse        3\nParis       40\n"
    item = check("out.txt", summary + "\n" + table)
    assert "threshold" in failed(item)
    prose = summary + "\nThree patients died; the oldest was 97.\n"
    assert check("out.txt", prose).status is Status.REVIEW


# --- survival tables: at risk and events at each step -------------------------------------------


def test_kaplan_meier_steps_use_the_threshold() -> None:
    item = check("km.csv", "time,at risk,events\n10,40,12\n20,28,3\n30,12,0\n40,6,11\n")
    results = rules(item)
    # The time points label the rows: the data columns are at risk and events.
    assert results["survival.at_risk"].cells == ((3, 0),)
    assert results["survival.events"].cells == ((1, 1),)


def test_statsmodels_survfunc_summary_fails() -> None:
    item = check("sf.txt", example("survival.events/fail/statsmodels_survfunc_summary.txt"))
    assert "survival.events" in failed(item)


@pytest.mark.parametrize(
    ("at_risk", "events"),
    [
        ("num at risk", "num events"),
        ("n.risk", "n.event"),
        ("n_risk", "n_events"),
        ("at_risk", "observed"),
        ("number at risk", "number of events"),
        ("nombre à risque", "décès"),
        ("Nb à risque", "Événements"),
        ("N at risk", "Events"),
    ],
)
def test_survival_header_variants(at_risk: str, events: str) -> None:
    small = f"time,{at_risk},{events}\n30,120,2\n60,100,0\n90,8,12\n"
    item = check("km.csv", small)
    assert {"survival.at_risk", "survival.events"} <= failed(item)
    big = f"time,{at_risk},{events}\n30,320,20\n60,300,0\n90,180,12\n"
    assert not failed(check("km.csv", big))


def test_statsmodels_survfunc_real_output() -> None:
    rng = np.random.default_rng(4)
    t = rng.integers(1, 60, 120).astype(float)
    e = (rng.random(120) < 0.15).astype(int)
    summary = sm.SurvfuncRight(t, e).summary()
    assert "survival.events" in failed(check("sf.txt", summary.to_string()))
    assert "survival.events" in failed(check("sf.csv", summary.to_csv()))


def test_risk_estimates_and_plain_deaths_are_not_survival_counts() -> None:
    text = "group,risk ratio,% at risk,deaths\nA,0.5,3.2,5\nB,1.4,4.1,20\n"
    results = found(check("rr.csv", text))
    assert "survival.at_risk" not in results
    assert "survival.events" not in results
