"""Fourth review: counts printed by Python and numpy, tables printed back to back, NIRs
grouped by thousands and phone numbers that kept their trunk 0."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from agoria_tre.disclosure.checker import Context, check_bytes
from agoria_tre.disclosure.policy import load_profile
from agoria_tre.disclosure.readers import printouts, texttables
from agoria_tre.disclosure.readers.printouts import find_json_tables
from agoria_tre.disclosure.readers.texttables import find_text_tables
from agoria_tre.disclosure.report import ItemReport, walk
from agoria_tre.disclosure.rules.identifier_tables import scan_table
from agoria_tre.disclosure.rules.identifiers import scan_text
from agoria_tre.disclosure.status import Status

FR = Context(load_profile("fr"))


def check(name: str, data: bytes) -> ItemReport:
    return check_bytes(name, data, FR).report


def rules(item: ItemReport) -> dict[str, Any]:
    return {r.rule: r for one in walk([item]) for r in one.rules if r.status is not Status.PASS}


def notebook_output(text: str) -> bytes:
    cell = {
        "cell_type": "code",
        "source": "counts",
        "outputs": [{"output_type": "execute_result", "data": {"text/plain": text}}],
    }
    return json.dumps(
        {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [cell]}
    ).encode()


# --- finding 2: Python and numpy printouts of counts ---------------------------------------

PRINTOUTS = {
    "dict": ("{'M': 45, 'F': 3}", [["", "M", "F"], ["", "45", "3"]]),
    "Counter": ("Counter({'M': 45, 'F': 3})", [["", "M", "F"], ["", "45", "3"]]),
    "defaultdict": (
        "defaultdict(<class 'int'>, {'M': 45, 'F': 3})",
        [["", "M", "F"], ["", "45", "3"]],
    ),
    "pairs": ("[('M', 45), ('F', 3)]", [["", "count"], ["M", "45"], ["F", "3"]]),
    "numpy 2 scalars": (
        "[('M', np.int64(45)), ('F', np.int64(3))]",
        [["", "count"], ["M", "45"], ["F", "3"]],
    ),
    "dict_items": ("dict_items([('M', 45), ('F', 3)])", [["", "count"], ["M", "45"], ["F", "3"]]),
    "np.unique": (
        "(array(['F', 'M'], dtype=object), array([ 3, 45]))",
        [["", "count"], ["F", "3"], ["M", "45"]],
    ),
    "np.unique of numbers": (
        "(array([1, 2]), array([45,  3]))",
        [["", "count"], ["1", "45"], ["2", "3"]],
    ),
    "printed 2-D array": (
        "[[22  2]\n [22  2]]",
        [["", "0", "1"], ["0", "22", "2"], ["1", "22", "2"]],
    ),
    "array repr": (
        "array([[22,  2],\n       [22,  2]])",
        [["", "0", "1"], ["0", "22", "2"], ["1", "22", "2"]],
    ),
    "to_dict of a crosstab": (
        "{'F': {'a': 3, 'b': 40}, 'M': {'a': 45, 'b': 60}}",
        [["", "F", "M"], ["a", "3", "45"], ["b", "40", "60"]],
    ),
    "IPython prompt": ("Out[3]: {'M': 45, 'F': 3}", [["", "M", "F"], ["", "45", "3"]]),
    "inside an unclosed bracket": (
        "[\n{'M': 45, 'F': 3}\nsee above",
        [["", "M", "F"], ["", "45", "3"]],
    ),
}


@pytest.mark.parametrize("case", list(PRINTOUTS))
def test_python_and_numpy_printouts_are_read_as_tables(case: str) -> None:
    text, grid = PRINTOUTS[case]
    assert find_text_tables(text) == [grid]
    item = check("out.txt", text.encode())
    assert item.status is Status.FAIL
    assert rules(item)["threshold"].status is Status.FAIL
    assert check("n.ipynb", notebook_output(text)).status is Status.FAIL


def test_np_histogram_counts_and_extreme_edges() -> None:
    text = "(array([ 28, 125, 123, 125,   1]), array([18. , 33.8, 49.6, 65.4, 81.2, 97. ]))"
    (grid,) = find_text_tables(text)
    assert grid[0] == ["", "count"]
    assert [row[1] for row in grid[1:]] == ["28", "125", "123", "125", "1"]
    assert grid[1][0] == "min 18.0 to 33.8"
    assert grid[-1][0] == "81.2 to 97.0 max"
    found = rules(check("h.txt", text.encode()))
    assert found["threshold"].cells == ((4, 0),)
    assert found["statistic.extremes"].status is Status.FAIL
    # large bins still show the minimum and maximum of the data as outer edges
    large = "(array([28, 125]), array([18. , 57.5, 97. ]))"
    assert set(rules(check("h.txt", large.encode()))) == {"statistic.extremes"}


@pytest.mark.parametrize(
    ("document", "grid"),
    [
        ({"sex": ["M", "F"], "n": [45, 3]}, [["", "n"], ["M", "45"], ["F", "3"]]),
        ({"n_by_sex": [["M", 45], ["F", 3]]}, [["", "count"], ["M", "45"], ["F", "3"]]),
        ([["F", "M"], [3, 45]], [["", "count"], ["F", "3"], ["M", "45"]]),
        (
            {"sex": ["M", "F"], "grp": ["a", "a"], "n": [45, 3], "mean": [54.5, 61.0]},
            [["", "n", "mean"], ["M / a", "45", "54.5"], ["F / a", "3", "61.0"]],
        ),
    ],
)
def test_json_columns_and_labelled_rows(document: object, grid: list[list[str]]) -> None:
    assert find_json_tables(document) == [grid]
    item = check("counts.json", json.dumps(document).encode())
    assert item.status is Status.FAIL
    assert rules(item)["threshold"].status is Status.FAIL


@pytest.mark.parametrize(
    "text",
    [
        "{'M': 450, 'F': 300}",
        "Counter({'M': 450, 'F': 300})",
        "[('M', 450), ('F', 300)]",
        "(array(['F', 'M'], dtype=object), array([300, 450]))",
        "[[220  120]\n [220  120]]",
    ],
)
def test_large_counts_printed_by_python_pass(text: str) -> None:
    assert find_text_tables(text)
    assert check("out.txt", text.encode()).status is Status.PASS


@pytest.mark.parametrize(
    "text",
    [
        "We ran print(df) and f(a, b) (see Table 3) [1].",
        "See [the appendix](https://example.org/a?b=1) for details (n = many).",
        "x = np.array([1, 2, 3])  # a vector is not a table",
        "the patient's values (ages 54 and 61) were 'ok' [ref 12]",
        "{'a': __import__('os').system('touch /tmp/pwned_review4')}",
        "[3 rows x 2 columns]",
        "print(f'{total} cases') and {x for x in y}",
    ],
)
def test_prose_and_code_are_not_tables(text: str) -> None:
    assert find_text_tables(text) == []


def test_literals_are_parsed_never_evaluated() -> None:
    source = Path(texttables.__file__).read_text() + Path(printouts.__file__).read_text()
    assert "eval(" not in source
    assert "exec(" not in source
    payload = "{'M': __import__('os').system('touch /tmp/pwned_review4'), 'F': 3}"
    find_text_tables(payload)
    assert not Path("/tmp/pwned_review4").exists()


@pytest.mark.parametrize(
    "text",
    [
        "[" * 2_000_000,
        "{" + "'a': 1, " * 300_000 + "}",
        "np.int64(" * 500_000,
        "(see x) [1] f(a) " * 200_000,
        "['" + "a" * 5_000 + "' " * 1_000,
        str([[i, i + 1] for i in range(200_000)]),
    ],
)
def test_literal_reading_is_bounded(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each character is read at most once by the literal tokenizer, and containers are
    looked for at most once per literal: work grows with the text, never faster."""
    calls = {"token": 0, "opener": 0}

    class Counting:
        def __init__(self, pattern: re.Pattern[str], name: str) -> None:
            self.pattern, self.name = pattern, name

        def match(self, string: str, pos: int = 0) -> re.Match[str] | None:
            calls[self.name] += 1
            return self.pattern.match(string, pos)

        def search(self, string: str, pos: int = 0) -> re.Match[str] | None:
            calls[self.name] += 1
            return self.pattern.search(string, pos)

    monkeypatch.setattr(printouts, "_LITERAL_TOKEN", Counting(printouts._LITERAL_TOKEN, "token"))
    monkeypatch.setattr(printouts, "_OPENER", Counting(printouts._OPENER, "opener"))
    find_text_tables(text)
    assert calls["token"] <= len(text)
    assert calls["opener"] <= len(text) // 2 + printouts.MAX_LITERALS + 1


def test_many_printouts_are_capped() -> None:
    grids = find_text_tables("{'a': 3}\n" * 5_000)
    assert len(grids) == printouts.MAX_LITERAL_GRIDS


# --- finding 5: tables printed back to back, several title lines --------------------------

TWO_FRAMES = (
    "     count\nsex       \nM       45\nF        3\n"
    "agegrp  18-40  40-65  90+\nsex                      \nF           0      0    3\n"
    "M          20     24    1\n"
)


def test_frames_printed_back_to_back_are_two_tables() -> None:
    assert find_text_tables(TWO_FRAMES) == [
        [["", "count"], ["M", "45"], ["F", "3"]],
        [["", "18-40", "40-65", "90+"], ["F", "0", "0", "3"], ["M", "20", "24", "1"]],
    ]
    item = check("t.txt", TWO_FRAMES.encode())
    assert item.status is Status.FAIL
    first, second = item.children
    assert rules(first)["threshold"].cells == ((1, 0),)
    assert rules(second)["threshold"].cells == ((0, 2), (1, 2))


def test_series_after_series_and_frame_with_numbered_columns() -> None:
    text = (
        "sex\nM    104\nF     96\nName: count, dtype: int64\n"
        "age   0   1   2\nsex            \nF    15  41  40\nM    14  44   3\n"
    )
    assert find_text_tables(text) == [
        [["", "sex"], ["M", "104"], ["F", "96"]],
        [["", "column 1", "column 2", "column 3"], ["F", "15", "41", "40"], ["M", "14", "44", "3"]],
    ]


def test_a_series_whose_first_row_is_small_keeps_it() -> None:
    # The first row was once taken for a header: F = 3 went unchecked.
    text = "sex\nF     3\nM    45\nName: count, dtype: int64\n"
    assert find_text_tables(text) == [[["", "sex"], ["F", "3"], ["M", "45"]]]
    assert check("t.txt", text.encode()).status is Status.FAIL
    assert check("t.txt", b"F   3\nM  45\n").status is Status.FAIL


def test_a_table_under_several_title_lines() -> None:
    text = "=== Descriptive ===\nCounts by sex\n     count\nsex       \nM       45\nF        3\n"
    assert find_text_tables(text) == [[["", "count"], ["M", "45"], ["F", "3"]]]
    assert check("t.txt", text.encode()).status is Status.FAIL


def test_back_to_back_tables_of_large_counts_pass() -> None:
    text = TWO_FRAMES.replace("  3\n", " 30\n").replace("     0", "    40")
    text = text.replace("F        3", "F       30").replace(" 1\n", "11\n")
    text = text.replace("   0    30", "  40    30")
    grids = find_text_tables(text)
    assert len(grids) == 2
    assert check("t.txt", text.encode()).status is Status.PASS


def test_a_note_after_a_table_does_not_hide_it() -> None:
    text = "     n\nF    3\nM   45\n(source: cohort 2024)\n"
    assert find_text_tables(text) == [[["", "n"], ["F", "3"], ["M", "45"]]]


def test_a_multiindex_frame_is_still_one_table() -> None:
    text = (
        "              mean  count\nsex grp                  \nF   a    21.205914     37\n"
        "    b    18.341512     26\nM   a    23.799703     34\n    b    17.970774     40\n"
    )
    (grid,) = find_text_tables(text)
    assert [row[-1] for row in grid[1:]] == ["37", "26", "34", "40"]


# --- finding 10: NIR grouped by thousands, phone with the trunk 0 -------------------------

BODY = "1850578006084"
NIR = BODY + f"{97 - int(BODY) % 97:02d}"


def thousands(number: str, sep: str) -> str:
    head = len(number) % 3 or 3
    groups = [number[:head]] + [number[i : i + 3] for i in range(head, len(number), 3)]
    return sep.join(groups)


@pytest.mark.parametrize("sep", [",", " ", "\u00a0", "\u202f", ".", "'"])
def test_nir_grouped_by_thousands(sep: str) -> None:
    text = f"x: {thousands(NIR, sep)}"
    assert [r.rule for r in scan_text(text, where="t")] == ["identifier.nir"]


def test_nir_grouped_by_thousands_in_files() -> None:
    assert check("a.txt", f"x: {thousands(NIR, ' ')}\n".encode()).status is Status.FAIL
    csv = f'grp,value\nA,"{thousands(NIR, ",")}"\nB,12\n'.encode()
    assert "identifier.nir" in rules(check("t.csv", csv))
    found = scan_table(["value"], ["grp"], [["A"]], [[thousands(NIR, ",")]])
    assert [(r.rule, r.cells) for r in found] == [("identifier.nir", ((0, 0),))]


def test_keyless_nir_by_thousands_needs_a_word_naming_it() -> None:
    grouped = thousands(BODY, ",")  # 1,850,578,006,084
    assert scan_text(f"total {grouped}", where="t") == []
    assert [r.rule for r in scan_text(f"NIR {grouped}", where="t")] == ["identifier.nir"]


@pytest.mark.parametrize(
    "text",
    [
        "185 057 800",  # a row of counts
        "counts: 185 057 800 608 12",
        thousands(NIR[:-2] + f"{(int(NIR[-2:]) + 1) % 100:02d}", " "),  # wrong key
        "12 " + thousands(NIR, " "),  # inside a longer run of groups
        thousands(NIR, " ") + " 120",
        thousands(NIR, ",") + ".5",  # a decimal
        thousands(NIR, ",")[:-1] + "," + "4",  # a group of one digit
        "1,234,567,890,123",
        "€ 955,057,800,608,491",  # no possible first digit
    ],
)
def test_numbers_grouped_by_thousands_that_are_not_nirs(text: str) -> None:
    assert "identifier.nir" not in {r.rule for r in scan_text(text, where="t")}, text


@pytest.mark.parametrize("text", ["+33 06 12 34 56 78", "0033 06 12 34 56 78", "+33 0612345678"])
def test_phone_with_the_trunk_zero_kept(text: str) -> None:
    assert [r.rule for r in scan_text(f"tel: {text}", where="t")] == ["identifier.phone"]
    assert check("p.txt", f"tel: {text}\n".encode()).status is Status.FAIL


@pytest.mark.parametrize(
    "text",
    [
        "33 06 12 34 56 78",  # no international prefix: a row of counts
        "+33 00 12 34 56 78",
        "+33 06 12 34 56",
        "+33 06 12 34 56 78 90",
        "1033 06 12 34 56 78",
    ],
)
def test_not_phones_with_a_zero(text: str) -> None:
    assert "identifier.phone" not in {r.rule for r in scan_text(text, where="t")}, text
