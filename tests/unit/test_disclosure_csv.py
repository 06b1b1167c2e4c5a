"""The CSV reader (readers/table.py): labels and data columns, hidden cells written as markers
or words, pandas' MultiIndex headers, the canonical form released, and what it refuses."""

from __future__ import annotations

import json
from collections.abc import Callable

import pandas as pd
import pytest

from agoria_tre.disclosure.policy import load_profile
from agoria_tre.disclosure.readers.table import Table, inert, parse_csv
from agoria_tre.disclosure.report import RuleResult
from agoria_tre.disclosure.status import Status
from tests.unit.disclosure_support import (
    check,
    example,
    failed,
    rules,
    stays,
    stays_in_large_groups,
)

FR = load_profile("fr")


def _parse(text: str, name: str = "t.csv") -> Table | RuleResult:
    return parse_csv(text.encode(), FR.limits, name=name)


def table(text: str) -> Table:
    parsed = _parse(text)
    assert isinstance(parsed, Table)
    return parsed


# --- the canonical form and refusals -----------------------------------------------------------


def test_the_canonical_form_runs_no_spreadsheet_formula() -> None:
    """A cell a spreadsheet would run (``=``, ``+``, ``-``, ``@``, a tab, a carriage return
    first) is released with a leading apostrophe; signed numbers stay numbers."""
    table = _parse(
        'group,=HYPERLINK("http://x"),n\n@SUM(A1),-5,+2.5 %\n"-2+3+cmd|\' /C calc\'!A0",12,40\n'
        "x,-,0\n"
    )
    assert isinstance(table, Table)
    assert table.canonical_csv().decode() == (
        'group,"\'=HYPERLINK(""http://x"")",n\n\'@SUM(A1),-5,+2.5 %\n'
        "'-2+3+cmd|' /C calc'!A0,12,40\nx,-,0\n"
    )
    assert inert("-12") == "-12"
    assert inert("\tcmd") == "'\tcmd"
    assert inert("") == ""


def test_csv_reader_labels_and_canonical_form() -> None:
    table = _parse("sex;drug A;drug B\r\nF;12;1,5\r\nM;<11;*\r\n")
    assert isinstance(table, Table)
    assert table.label_names == ("sex",)
    assert table.header == ("drug A", "drug B")
    assert table.canonical_csv() == b"sex,drug A,drug B\nF,12,1.5\nM,<11,*\n"
    assert table.suppressed.tolist() == [[False, False], [True, True]]
    assert table.upper_bounds[1, 0] == 10


@pytest.mark.parametrize(
    ("data", "rule", "message"),
    [
        (b"a,b\n1,2\n3\n", "file.unreadable", "row 3 has 1 fields, the header has 2"),
        (b'a,b\n1,"2\n', "file.unreadable", "not a readable table"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "file.type", "binary content"),
        (b"a,b\n", "file.unreadable", "no data rows"),
        (b"", "file.unreadable", "no data rows"),
    ],
)
def test_csv_refusals(data: bytes, rule: str, message: str) -> None:
    result = parse_csv(data, FR.limits, name="x.csv")
    assert isinstance(result, RuleResult)
    assert (result.rule, result.status) == (rule, Status.FAIL)
    assert message in result.summary


def test_csv_limits() -> None:
    rows = "a,b\n" + "x,1\n" * (FR.limits.max_rows + 5)
    result = parse_csv(rows.encode(), FR.limits, name="x.csv")
    assert isinstance(result, RuleResult)
    assert result.rule == "file.limits"


def test_latin1_extract_is_rewritten_as_utf8() -> None:
    table = parse_csv("région,n\nÎle-de-France,40\n".encode("cp1252"), FR.limits, name="x.csv")
    assert isinstance(table, Table)
    assert table.canonical_csv().decode("utf-8") == "région,n\nÎle-de-France,40\n"
    assert "decoded as Windows-1252" in table.notes[0]


def test_cells_the_checker_cannot_read_are_located_never_quoted() -> None:
    nir = "1 84 12 76 451 089 46"
    item = check("t.csv", f"region,n\nNord,25\nSud,{nir} ?\nEst,30\n")
    unparsed = rules(item)["table.unparsed"]
    assert unparsed.status == Status.REVIEW
    assert unparsed.summary == (
        "1 cells hold numbers the checker cannot read (the first in data row 2, value"
        " column 1): check them by eye"
    )
    assert rules(item)["identifier.nir"].status == Status.FAIL
    assert "451 089" not in json.dumps(item.as_dict(), default=str)  # the report never holds it


# --- statistics and margins ----------------------------------------------------------------------


def test_sum_header_is_a_statistic_not_a_margin() -> None:
    parsed = table(example("statistic.implied_count/fail/sum_equal_to_mean_is_one_patient.csv"))
    assert parsed.margin_columns == ()
    assert parsed.statistic_columns == (0, 1)
    assert not parsed.all_integer()
    margins = table("sex,A,B,Sum\nF,15,30,45\nM,20,40,60\nSum,35,70,105\n")
    assert margins.margin_columns == (2,)
    assert margins.statistic_columns == ()
    assert margins.all_integer()


# --- hidden cells written as words ---------------------------------------------------------------


def test_column_of_markers_and_numbers_is_data_not_labels() -> None:
    text = example("threshold/fail/deaths_hidden_by_nc_markers_beside_a_small_count.csv")
    parsed = table(text)
    assert parsed.label_names == ("region",)
    assert parsed.header == ("deces", "admissions")
    assert parsed.suppressed[:, 0].tolist() == [True, True, False, False]
    item = check("deaths.csv", text)
    assert (rules(item)["threshold"].status, rules(item)["threshold"].cells) == (
        Status.FAIL,
        ((2, 0),),
    )
    # an unknown word repeated among numbers is a marker too, not a label column
    unknown = table(text.replace("NC", "protégé"))
    assert unknown.header == ("deces", "admissions")


def test_label_columns_holding_marker_like_words_stay_labels() -> None:
    # "NC" (Nouvelle-Calédonie) as a region, "Total" repeated in a two-level label
    regions = table("region,n\nAin,20\nNC,30\nAllier,40\n")
    assert regions.label_names == ("region",)
    assert check("t.csv", "region,n\nAin,20\nNC,30\nAllier,40\n").status is Status.PASS
    levels = table("year,sex,n\n2019,F,20\n2019,M,30\nTotal,F,20\nTotal,M,30\n")
    assert levels.label_names == ("year", "sex")


# --- pandas' MultiIndex headers ------------------------------------------------------------------


def test_multiindex_csv_header_is_read_as_joined_names() -> None:
    g = stays().groupby("region")[["age", "los"]].agg(["count", "mean", "max"])
    parsed = table(g.to_csv())
    assert parsed.label_names == ("region",)
    assert parsed.header[:3] == ("age / count", "age / mean", "age / max")
    item = check("g.csv", g.to_csv())
    assert {"threshold", "statistic.extremes"} <= failed(item)
    assert any("header rows" in note for note in item.notes)


def test_multiindex_csv_with_a_small_count_and_a_maximum_fails_both() -> None:
    text = example("threshold/fail/multiindex_header_count_mean_max_by_region.csv")
    assert {"threshold", "statistic.extremes"} <= failed(check("by_region.csv", text))


@pytest.mark.parametrize(
    "make",
    [
        lambda df: df.groupby(["region", "sex"])[["age", "los"]].agg(["count", "mean"]),
        lambda df: pd.pivot_table(
            df, index="region", columns="sex", values="cost", aggfunc=["count", "mean"]
        ),
        lambda df: df.groupby("region")[["age", "los"]].agg(["count", "mean"]).reset_index(),
    ],
)
def test_multiindex_csv_layouts(make: Callable[[pd.DataFrame], pd.DataFrame]) -> None:
    assert "threshold" in failed(check("m.csv", make(stays()).to_csv()))
    guard = check("m.csv", make(stays_in_large_groups()).to_csv())
    assert not failed(guard)


def test_single_header_csv_with_a_text_first_row_is_unchanged() -> None:
    parsed = table("group,a,b\nsection,,\nx,12,13\ny,14,15\n")
    assert parsed.header == ("a", "b")
