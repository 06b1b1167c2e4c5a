"""Tables printed as text (readers/texttables.py): what pandas prints (frames, series,
MultiIndex headers and rows), Markdown tables, tables printed back to back or under titles;
every count in them faces the threshold, none hides in a label."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from agoria_tre.disclosure.readers.texttables import find_text_tables
from agoria_tre.disclosure.status import Status
from tests.unit.disclosure_support import (
    check,
    example,
    failed,
    flagged_results,
    found,
    notebook_of,
    rules,
    stays,
    stays_in_large_groups,
    stream,
    summaries,
)

TWO_FRAMES = "threshold/fail/two_frames_printed_back_to_back.txt"


def test_tables_printed_as_text_are_checked() -> None:
    frame = pd.crosstab(
        pd.Series(["F", "M"] * 20, name="sex"), pd.Series(["A"] * 36 + ["C"] * 4, name="drug")
    )
    printed = check("out.txt", str(frame))
    table = printed.children[0]
    assert table.path == "out.txt / table 1"
    assert rules(table)["threshold"].cells == ((0, 1), (1, 1))
    markdown = check("out.md", "| sex | n |\n|---|---|\n| F | 3 |\n| M | 40 |\n")
    assert rules(markdown.children[0])["threshold"].cells == ((0, 0),)
    printed_in_a_notebook = notebook_of(
        [{"cell_type": "code", "source": "print(t)", "outputs": [stream(str(frame))]}]
    )
    assert check("n.ipynb", printed_in_a_notebook).status is Status.FAIL
    prose = check("notes.md", "We saw 3 cases in 2024.\nNothing else.\n")
    assert prose.children == []


# --- counts never hide in labels ---------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        # pandas: column names with spaces, read by their aligned positions
        "     drug A  drug B\nsex                \nF         3      64\nM        98      71\n",
        # hand-aligned badly: the number the words would put in the label is a value
        "sex  drug A  drug B\nF        3      64\nM         98      71\n",
        "A 3 64\nB 98 71\n",
    ],
)
def test_counts_in_printed_tables_never_hide_in_labels(text: str) -> None:
    item = check("t.txt", text)
    (table,) = item.children
    assert rules(table)["threshold"].status is Status.FAIL
    assert rules(table)["threshold"].cells == ((0, 0),)


def test_aligned_labels_with_numbers_stay_labels() -> None:
    frame = pd.DataFrame(
        {"drug A": [45, 30], "drug B": [64, 71]},
        index=pd.Index(["Grade 3", "Grade 4"], name="grade"),
    )
    (table,) = check("t.txt", frame.to_string()).children
    assert rules(table)["threshold"].status is Status.PASS


def test_a_series_whose_first_row_is_small_keeps_it() -> None:
    # The first row was once taken for a header: F = 3 went unchecked.
    text = "sex\nF     3\nM    45\nName: count, dtype: int64\n"
    assert find_text_tables(text) == [[["", "sex"], ["F", "3"], ["M", "45"]]]
    assert check("t.txt", text).status is Status.FAIL
    assert check("t.txt", "F   3\nM  45\n").status is Status.FAIL


# --- tables back to back, under titles, before notes -------------------------------------------


def test_frames_printed_back_to_back_are_two_tables() -> None:
    text = example(TWO_FRAMES)
    assert find_text_tables(text) == [
        [["", "count"], ["M", "45"], ["F", "3"]],
        [["", "18-40", "40-65", "90+"], ["F", "0", "0", "3"], ["M", "20", "24", "1"]],
    ]
    item = check("t.txt", text)
    assert item.status is Status.FAIL
    first, second = item.children
    assert flagged_results(first)["threshold"].cells == ((1, 0),)
    assert flagged_results(second)["threshold"].cells == ((0, 2), (1, 2))


def test_back_to_back_tables_of_large_counts_pass() -> None:
    text = example(TWO_FRAMES).replace("  3\n", " 30\n").replace("     0", "    40")
    text = text.replace("F        3", "F       30").replace(" 1\n", "11\n")
    text = text.replace("   0    30", "  40    30")
    grids = find_text_tables(text)
    assert len(grids) == 2
    assert check("t.txt", text).status is Status.PASS


def test_series_after_series_and_frame_with_numbered_columns() -> None:
    text = (
        "sex\nM    104\nF     96\nName: count, dtype: int64\n"
        "age   0   1   2\nsex            \nF    15  41  40\nM    14  44   3\n"
    )
    assert find_text_tables(text) == [
        [["", "sex"], ["M", "104"], ["F", "96"]],
        [["", "column 1", "column 2", "column 3"], ["F", "15", "41", "40"], ["M", "14", "44", "3"]],
    ]


def test_a_table_under_several_title_lines() -> None:
    text = "=== Descriptive ===\nCounts by sex\n     count\nsex       \nM       45\nF        3\n"
    assert find_text_tables(text) == [[["", "count"], ["M", "45"], ["F", "3"]]]
    assert check("t.txt", text).status is Status.FAIL


def test_title_above_a_table_is_not_a_header_level() -> None:
    text = (
        "Table 1: admissions\n          n  mean_age\nregion\nBretagne  123  56.3\nIDF  68  59.6\n"
    )
    grids = find_text_tables(text)
    assert grids
    assert grids[0][0][1:] == ["n", "mean_age"]


def test_a_note_after_a_table_does_not_hide_it() -> None:
    text = "     n\nF    3\nM   45\n(source: cohort 2024)\n"
    assert find_text_tables(text) == [[["", "n"], ["F", "3"], ["M", "45"]]]


# --- MultiIndex frames and groupby aggregates ---------------------------------------------------


def test_a_multiindex_frame_is_still_one_table() -> None:
    text = (
        "              mean  count\nsex grp                  \nF   a    21.205914     37\n"
        "    b    18.341512     26\nM   a    23.799703     34\n    b    17.970774     40\n"
    )
    (grid,) = find_text_tables(text)
    assert [row[-1] for row in grid[1:]] == ["37", "26", "34", "40"]


PRINTED: list[Callable[[pd.DataFrame], pd.DataFrame]] = [
    lambda df: df.groupby(["region", "sex"])["cost"].agg(["count", "mean", "std"]),
    lambda df: df.groupby(["region", "sex"])["cost"].agg(["count", "mean", "std"]).round(1),
    lambda df: pd.pivot_table(
        df, index="region", columns="sex", values="cost", aggfunc=["count", "mean"]
    ),
    lambda df: pd.pivot_table(
        df, index="region", columns="sex", values="cost", aggfunc=["count", "mean"], margins=True
    ),
    lambda df: df.groupby("region")[["age", "los"]].agg(["count", "mean"]),
]


@pytest.mark.parametrize("make", PRINTED)
def test_printed_count_columns_face_the_threshold(
    make: Callable[[pd.DataFrame], pd.DataFrame],
) -> None:
    text = make(stays()).to_string()
    assert "threshold" in failed(check("g.txt", text))
    guard = check("g.txt", make(stays_in_large_groups()).to_string())
    assert not failed(guard), summaries(guard)
    # the means rest on the counts beside them; the variable's unit is not printed
    assert found(guard).get("statistic.units") is Status.PASS


def test_printed_multiindex_header_and_rows() -> None:
    g = stays().groupby(["region", "sex"])["cost"].agg(["count", "mean", "std"])
    (grid,) = find_text_tables(g.to_string())
    assert grid[0] == ["region / sex", "count", "mean", "std"]
    assert [row[0] for row in grid[1:5]] == [
        "Bretagne / F",
        "Bretagne / M",
        "Corse / F",
        "Corse / M",
    ]
    p = pd.pivot_table(
        stays(), index="region", columns="sex", values="cost", aggfunc=["count", "mean"]
    )
    (grid,) = find_text_tables(p.to_string())
    assert grid[0] == ["", "count / F", "count / M", "mean / F", "mean / M"]


def test_printed_crosstab_with_large_counts_passes() -> None:
    df = stays_in_large_groups()
    text = pd.crosstab(df.region, df.sex).to_string()
    assert not failed(check("ct.txt", text))
    stay = pd.Series(np.where(df.los > 15, "long", "short"), name="stay")
    text = pd.crosstab([df.region, df.sex], stay).to_string()
    (grid,) = find_text_tables(text)
    assert grid[0] == ["region / sex", "long", "short"]
    assert grid[2][0] == "Bretagne / M"
    assert not failed(check("ct.txt", text))
