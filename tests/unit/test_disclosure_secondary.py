"""Hidden cells of a table of counts and what could recompute them (rules/secondary.py): the
table's own margins, "<N" markers, and the totals another table of the request publishes; and
cells hidden by "*" or by a word in whole files."""

from __future__ import annotations

from pathlib import Path

import pytest

from agoria_tre.disclosure.checker import Context, check_paths
from agoria_tre.disclosure.policy import load_profile
from agoria_tre.disclosure.readers.table import Table, parse_csv
from agoria_tre.disclosure.report import RuleResult
from agoria_tre.disclosure.rules.differencing import load_released
from agoria_tre.disclosure.rules.secondary import (
    MAX_HIDDEN_FOR_LP,
    across,
    secondary,
    suppression_holds,
)
from agoria_tre.disclosure.status import Status
from tests.unit.disclosure_support import check, example, rules

FR = load_profile("fr")


def table(text: str) -> Table:
    parsed = parse_csv(text.encode(), FR.limits, name="t.csv")
    assert isinstance(parsed, Table), parsed
    return parsed


Verdict = tuple[str, Status, tuple[tuple[int, int], ...]]


def verdicts(results: list[RuleResult]) -> list[Verdict]:
    return [(r.rule, r.status, r.cells) for r in results]


# --- one table, its own margins ---------------------------------------------------------------


def test_a_table_without_hidden_cells_needs_no_rule() -> None:
    assert secondary(table("sex,A,B,All\nF,12,30,42\nM,20,40,60\nAll,32,70,102\n"), FR) == []


def test_hidden_cells_without_margins_pass() -> None:
    [result] = secondary(table("sex,A,B\nF,*,30\nM,20,40\n"), FR)
    assert (result.rule, result.status) == ("secondary_suppression", Status.PASS)
    assert result.summary == "suppressed cells, and no margins they could be recomputed from"


@pytest.mark.parametrize(
    "text",
    [
        "sex,A,B,All\nF,*,30,35\nM,20,40,60\nAll,25,70,95\n",  # both margins
        "sex,A,B,Total\nF,*,30,35\nM,20,40,60\n",  # a margin column only
        "sex,A,B\nF,*,30\nM,20,40\nTotal,25,70\n",  # a margin row only
    ],
)
def test_a_hidden_cell_the_margins_give_back_fails(text: str) -> None:
    [result] = secondary(table(text), FR)
    assert (result.rule, result.status, result.cells) == (
        "secondary_suppression",
        Status.FAIL,
        ((0, 0),),
    )
    assert "can be recomputed from the margins: it is exactly 5" in result.summary


def test_hidden_cells_the_margins_leave_wide_pass() -> None:
    text = "sex,A,B,All\nF,*,*,55\nM,*,*,70\nAll,45,80,125\n"
    [result] = secondary(table(text), FR)
    assert (result.status, result.cells) == (Status.PASS, ())
    assert suppression_holds(table(text), FR)


def test_positions_count_past_a_margin_row_and_column() -> None:
    text = "sex,All,A,B\nAll,95,25,70\nF,35,*,30\nM,60,20,40\n"
    [result] = secondary(table(text), FR)
    assert (result.status, result.cells) == (Status.FAIL, ((1, 1),))


def test_a_less_than_marker_bounds_the_cell_it_hides() -> None:
    # "<11" hides 1 to 10: the cell beside it lies between 45 and 54, a range under 11
    text = "sex,A,B,All\nF,<11,*,55\nM,*,*,70\nAll,45,80,125\n"
    [result] = secondary(table(text), FR)
    assert result.status is Status.FAIL
    assert "it lies between 45 and 54" in result.summary


@pytest.mark.parametrize(
    ("marker", "narrow"),
    [("<2", True), ("<=9", True), ("≤5", True), ("<11", False), ("≤10", False), ("<=10", False)],
)
def test_a_marker_under_the_threshold_hides_too_few_counts(marker: str, narrow: bool) -> None:
    results = secondary(table(f"sex,A,B\nF,{marker},30\nM,20,40\n"), FR)
    expected: list[Verdict] = [("secondary_suppression", Status.PASS, ())]
    if narrow:
        expected.insert(0, ("suppression.markers", Status.FAIL, ((0, 0),)))
    assert verdicts(results) == expected


def test_the_marker_rule_says_what_a_marker_must_cover() -> None:
    [markers, _] = secondary(table("sex,A,B\nF,<2,<3\nM,20,40\n"), FR)
    assert markers.cells == ((0, 0), (0, 1))
    assert markers.summary == (
        "2 suppression markers hiding fewer values than the threshold (11): '<N' must cover"
        " every count from 1 to 10"
    )


def test_too_many_hidden_cells_go_to_review() -> None:
    rows, cols = 21, 10
    assert rows * cols > MAX_HIDDEN_FOR_LP
    header = "group," + ",".join(f"c{j}" for j in range(cols)) + ",All\n"
    body = "".join(f"r{i}," + "*," * cols + "100\n" for i in range(rows))
    [result] = secondary(table(header + body), FR)
    assert (result.rule, result.status) == ("secondary_suppression", Status.REVIEW)
    assert result.summary == (
        f"{rows * cols} hidden cells: more than the {MAX_HIDDEN_FOR_LP} whose ranges are"
        " computed; check by eye"
    )


@pytest.mark.parametrize(
    ("text", "holds"),
    [
        ("sex,A,B\nF,12,30\nM,20,40\n", True),
        ("sex,A,B\nF,*,30\nM,20,40\n", True),
        ("sex,A,B,All\nF,*,30,35\nM,20,40,60\nAll,25,70,95\n", False),
        ("sex,A,B\nF,<2,30\nM,20,40\n", False),  # the marker itself says too much
    ],
)
def test_suppression_holds_when_no_rule_fails(text: str, holds: bool) -> None:
    assert suppression_holds(table(text), FR) is holds


# --- across the tables of a request ------------------------------------------------------------

MAIN = "sex,A,B\nF,*,30\nM,20,40\n"  # the hidden cell is 5: F's total 35, or A's total 25


@pytest.mark.parametrize(
    "other",
    [
        "sex,n\nF,35\nM,60\n",  # a one-way table giving the rows' totals
        "A,B\n25,70\n",  # a one-row table giving the columns' totals
        "group,n\nA,25\nB,70\n",  # a one-way table whose labels are the columns
        "Sex,N\n f ,35\nM,60\n",  # labels compared without case or spaces
        "sex,n\nF,35\n",  # the total of the hidden cell's row alone
        "sex,n\nF,35\nM,60\nTotal,95\n",  # a one-way table with its own total
    ],
)
def test_a_hidden_cell_another_table_gives_back_fails(other: str) -> None:
    main, result = across([("main.csv", table(MAIN)), ("other.csv", table(other))], FR)
    assert result is None  # the one-way table has nothing hidden
    assert main is not None
    assert (main.rule, main.status, main.cells) == (
        "secondary_suppression",
        Status.FAIL,
        ((0, 0),),
    )
    assert "can be recomputed from the totals in other.csv: it is exactly 5" in main.summary


@pytest.mark.parametrize(
    "other",
    [
        "region,n\nNord,35\nSud,60\n",  # no label in common
        "sex,n\nM,60\n",  # only the total of a row shown whole
        "sex,n\nF,500\nM,600\n",  # M's total is not its cells': it counts something else
        "sex,n\nF,*\nM,60\n",  # a one-way table with a hidden cell gives no total
        "sex,mean age\nF,35.5\nM,60.5\n",  # not counts
        "sex,A,B\nF,35,1\nM,60,1\n",  # not one-way
        "n\n35\n60\n",  # a column without labels
    ],
)
def test_tables_that_give_no_usable_totals_leave_the_cell_alone(other: str) -> None:
    assert across([("main.csv", table(MAIN)), ("other.csv", table(other))], FR) == [None, None]


def test_totals_that_leave_the_hidden_cells_wide_pass_silently() -> None:
    main = table("sex,A,B\nF,*,*\nM,20,40\n")
    assert across([("main.csv", main), ("rows.csv", table("sex,n\nF,35\nM,60\n"))], FR) == [
        None,
        None,
    ]


def test_inconsistent_totals_from_another_table_go_to_review() -> None:
    wide = table("sex,n\nF,20\n")  # less than the row's shown cell
    [main, _] = across([("main.csv", table(MAIN)), ("wide.csv", wide)], FR)
    assert main is not None
    assert main.status is Status.REVIEW


def test_a_request_is_checked_against_the_folders_released_before(tmp_path: Path) -> None:
    released = tmp_path / "release-1"
    released.mkdir()
    (released / "by_sex.csv").write_text("sex,n\nF,35\nM,60\n")
    (tmp_path / "main.csv").write_text(MAIN)
    earlier, _ = load_released([released], FR.limits)
    report = check_paths([tmp_path / "main.csv"], Context(FR, frozenset(), tuple(earlier)))
    [item] = report.items
    result = rules(item)["secondary_suppression"]
    assert (result.status, result.cells) == (Status.FAIL, ((0, 0),))
    assert "the totals in released:release-1/by_sex.csv" in result.summary


@pytest.mark.parametrize(
    "main",
    [
        "sex,A,B\nF,12,30\nM,20,40\n",  # nothing hidden
        "sex,A,B,All\nF,*,30,35\nM,20,40,60\nAll,25,70,95\n",  # own margins: secondary()
        "sex,mean A,mean B\nF,*,30.5\nM,20.5,40.5\n",  # not counts
    ],
)
def test_only_tables_of_counts_with_hidden_cells_and_no_margins_are_checked_across(
    main: str,
) -> None:
    rows = table("sex,n\nF,35\nM,60\n")
    assert across([("main.csv", table(main)), ("rows.csv", rows)], FR) == [None, None]


@pytest.mark.parametrize(
    "other",
    [
        "sex,A,B\nF,5,30\nM,20,40\n",  # the same grid, nothing hidden
        "group,F,M\nA,5,20\nB,30,40\n",  # the same grid, printed the other way round
        "sex,A\nF,5\nM,20\n",  # part of the grid
    ],
)
def test_a_hidden_cell_another_grid_shows_fails(other: str) -> None:
    main, _ = across([("main.csv", table(MAIN)), ("other.csv", table(other))], FR)
    assert main is not None
    assert (main.status, main.cells) == (Status.FAIL, ((0, 0),))
    assert main.summary.startswith("hidden cell (row 1, column 1) is shown in other.csv: 5")


def test_every_hidden_cell_another_grid_shows_is_named() -> None:
    main = table("sex,A,B\nF,*,30\nM,*,40\n")
    [result, _] = across([("main.csv", main), ("grid.csv", table("sex,A,B\nF,5,30\nM,9,40\n"))], FR)
    assert result is not None
    assert result.cells == ((0, 0), (1, 0))
    assert "; 1 more hidden cell shown elsewhere" in result.summary


def test_an_empty_label_is_no_hidden_cell() -> None:
    """Ordinal levels read as labels: the blank one is a label, not a hidden count."""
    levels = table("ecog,n\n0,12\n1,30\n,45\n")
    assert levels.suppressed.any()  # before the layout moves the levels into the labels
    assert across([("levels.csv", levels), ("rows.csv", table("ecog,n\n0,12\n"))], FR) == [
        None,
        None,
    ]


def test_a_grid_that_counts_something_else_shows_nothing_hidden() -> None:
    deaths = table("sex,A,B\nF,1,3\nM,2,4\n")  # same labels, other counts
    assert across([("main.csv", table(MAIN)), ("deaths.csv", deaths)], FR) == [None, None]


def test_the_margins_of_a_two_way_table_are_totals_of_the_lines_it_shares() -> None:
    by_age = table("sex,<50,50+,All\nF,15,20,35\nM,25,35,60\nAll,40,55,95\n")
    main, _ = across([("main.csv", table(MAIN)), ("by_age.csv", by_age)], FR)
    assert main is not None
    assert (main.status, main.cells) == (Status.FAIL, ((0, 0),))
    assert "from the totals in by_age.csv: it is exactly 5" in main.summary


def test_a_tables_own_margins_and_another_tables_totals_together() -> None:
    # Alone, the column total leaves each of F and M between 0 and 25; F's total pins it.
    own = table("sex,A,B\nF,*,30\nM,*,40\nAll,25,70\n")
    assert secondary(own, FR)[-1].status is Status.PASS
    main, _ = across([("main.csv", own), ("rows.csv", table("sex,n\nF,35\nM,60\n"))], FR)
    assert main is not None
    assert (main.status, main.cells) == (Status.FAIL, ((0, 0), (1, 0)))
    assert "from the margins and the totals in rows.csv" in main.summary


def test_what_several_tables_give_is_combined() -> None:
    # F's total leaves its two hidden cells between 0 and 15; a grid showing one gives both.
    main = table("sex,A,B,C\nF,*,*,30\nM,20,40,50\n")
    rows = table("sex,n\nF,45\nM,110\n")
    part = table("sex,A,C\nF,12,30\nM,20,50\n")
    assert across([("main.csv", main), ("rows.csv", rows)], FR) == [None, None]
    [result, _, _] = across([("main.csv", main), ("rows.csv", rows), ("part.csv", part)], FR)
    assert result is not None
    assert (result.status, result.cells) == (Status.FAIL, ((0, 0), (0, 1)))
    assert "is shown in part.csv: 12" in result.summary
    assert "from the totals in rows.csv and part.csv: it is exactly 3" in result.summary


def test_released_tables_give_totals_and_cells_too() -> None:
    earlier = [("released/by_sex.csv", table("sex,n\nF,35\nM,60\n"))]
    [main] = across([("main.csv", table(MAIN))], FR, released=earlier)
    assert main is not None
    assert main.status is Status.FAIL
    assert "released/by_sex.csv" in main.summary


def test_a_lone_table_has_nothing_to_be_checked_against() -> None:
    assert across([("main.csv", table(MAIN))], FR) == [None]


def test_the_worst_verdict_across_the_request_wins() -> None:
    wide = table("sex,n\nF,500\nM,600\n")
    rows = table("sex,n\nF,35\nM,60\n")
    [main, _, _] = across([("main.csv", table(MAIN)), ("wide.csv", wide), ("rows.csv", rows)], FR)
    assert main is not None
    assert main.status is Status.FAIL


# --- whole files: hidden cells written as "*" or as words -----------------------------------------


def test_suppressed_cell_pinned_by_margins_fails_and_a_protected_one_passes() -> None:
    pinned = check("t.csv", "sex,A,B,All\nF,*,30,35\nM,20,40,60\nAll,25,70,95\n")
    result = rules(pinned)["secondary_suppression"]
    assert (result.status, result.cells) == (Status.FAIL, ((0, 0),))
    protected = check("t.csv", "sex,A,B,All\nF,*,*,55\nM,*,*,70\nAll,45,80,125\n")
    assert rules(protected)["secondary_suppression"].status is Status.PASS


WORD_MARKED = "secondary_suppression/fail/cell_hidden_by_a_word_pinned_by_its_margins.csv"


@pytest.mark.parametrize(
    "marker",
    [
        "masqué",
        "Masqué",
        "[c]",
        "[x]",
        "–",  # noqa: RUF001 (an en dash, as offices print it)
        "…",
        "−",  # noqa: RUF001 (a minus sign)
        "secret",
        "NR",
        "ND",
        "NC",
        "suppressed",
        "•",
        "‡",
        "c",
        "x",
        "s",
        "n/a",
        "protégé",  # any word in a column of numbers hides a number
    ],
)
def test_word_markers_are_hidden_cells_recomputed_from_margins(marker: str) -> None:
    text = example(WORD_MARKED)
    assert "F,masqué," in text
    item = check("marked.csv", text.replace("F,masqué,", f"F,{marker},"))
    result = rules(item)["secondary_suppression"]
    assert (result.status, result.cells) == (Status.FAIL, ((0, 0),))
    assert "exactly 5" in result.summary


def test_word_marker_protected_by_other_hidden_cells_passes() -> None:
    text = "sex,A,B,Total\nF,masqué,NC,55\nM,NC,masqué,70\nTotal,45,80,125\n"
    assert rules(check("t.csv", text))["secondary_suppression"].status is Status.PASS
