"""Printouts of Python, NumPy and JSON read as tables (readers/printouts.py): dicts, Counters,
pairs, arrays and ``np.unique``/``np.histogram`` results, JSON documents by column or by row;
literals parsed, never evaluated, and read in bounded work."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from agoria_tre.disclosure.readers import printouts, texttables
from agoria_tre.disclosure.readers.printouts import find_json_tables
from agoria_tre.disclosure.readers.texttables import find_text_tables
from agoria_tre.disclosure.status import Status
from tests.unit.disclosure_support import (
    check,
    failed,
    flagged_results,
    notebook,
    rules,
    stays,
    stays_in_large_groups,
)

# --- Python and NumPy printouts of counts --------------------------------------------------

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
    item = check("out.txt", text)
    assert item.status is Status.FAIL
    assert flagged_results(item)["threshold"].status is Status.FAIL
    assert check("n.ipynb", notebook(("counts", text))).status is Status.FAIL


def test_np_histogram_counts_and_extreme_edges() -> None:
    text = "(array([ 28, 125, 123, 125,   1]), array([18. , 33.8, 49.6, 65.4, 81.2, 97. ]))"
    (grid,) = find_text_tables(text)
    assert grid[0] == ["", "count"]
    assert [row[1] for row in grid[1:]] == ["28", "125", "123", "125", "1"]
    assert grid[1][0] == "min 18.0 to 33.8"
    assert grid[-1][0] == "81.2 to 97.0 max"
    found = flagged_results(check("h.txt", text))
    assert found["threshold"].cells == ((4, 0),)
    assert found["statistic.extremes"].status is Status.FAIL
    # large bins still show the minimum and maximum of the data as outer edges
    large = "(array([28, 125]), array([18. , 57.5, 97. ]))"
    assert set(flagged_results(check("h.txt", large))) == {"statistic.extremes"}


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
    assert check("out.txt", text).status is Status.PASS


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


def test_dict_of_rows_printout() -> None:
    text = "{'Bretagne': {'n': 123, 'mean_age': 56.3}, 'Corse': {'n': 3, 'mean_age': 51.3}}"
    assert "threshold" in failed(check("d.txt", text))


# --- literals are parsed, never evaluated, in bounded work ---------------------------------


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


# --- JSON documents ------------------------------------------------------------------------


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
    item = check("counts.json", json.dumps(document))
    assert item.status is Status.FAIL
    assert flagged_results(item)["threshold"].status is Status.FAIL


@pytest.mark.parametrize(
    "document",
    [
        {"F": 3, "M": 50},
        {"A": {"F": 3, "M": 50}, "B": {"F": 40, "M": 60}},
        [{"sex": "F", "n": 3}, {"sex": "M", "n": 50}],
        {"results": {"by_sex": {"F": 3, "M": 50}}},
    ],
)
def test_json_objects_of_counts_are_checked_as_tables(document: object) -> None:
    item = check("counts.json", json.dumps(document))
    assert item.status is Status.FAIL
    assert any(
        rules(child).get("threshold") is not None
        and rules(child)["threshold"].status is Status.FAIL
        for child in item.children
    )


@pytest.mark.parametrize("indent", [None, 2])
def test_json_orient_index_is_read_by_row(indent: int | None) -> None:
    g = (
        stays()
        .groupby("region")
        .agg(n=("age", "size"), mean_age=("age", "mean"), deaths=("death", "sum"))
    )
    text = g.to_json(orient="index", indent=indent)
    (grid,) = find_json_tables(json.loads(text))
    assert grid[0] == ["", "n", "mean_age", "deaths"]
    assert "threshold" in failed(check("g.json", text))
    # the default orient still reads the same way
    (grid,) = find_json_tables(json.loads(g.to_json()))
    assert grid[0] == ["", "n", "mean_age", "deaths"]


def test_json_orient_index_with_large_counts_passes_the_threshold() -> None:
    g = stays_in_large_groups().groupby("region").agg(n=("age", "size"), mean_age=("age", "mean"))
    item = check("g.json", g.to_json(orient="index"))
    assert not failed(item)


def test_json_crosstab_by_column_is_unchanged() -> None:
    value = {"F": {"Bretagne": 57, "Corse": 2}, "M": {"Bretagne": 66, "Corse": 1}}
    (grid,) = find_json_tables(value)
    assert grid[0] == ["", "F", "M"]
