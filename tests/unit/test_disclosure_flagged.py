"""A checked table as people see it (disclosure/flagged.py): the rules that did not pass,
worst first, and the canonical grid with each flagged cell carrying its reasons."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from agoria_tre import safe
from agoria_tre.disclosure import flagged
from agoria_tre.disclosure.checker import check_paths
from agoria_tre.disclosure.context import Context
from agoria_tre.disclosure.policy import load_profile


def rule(status: str, cells: list[list[int]] | None = None, name: str = "threshold") -> Any:
    return {"rule": name, "status": status, "summary": f"{status} here", "cells": cells or []}


def test_findings_are_the_rules_that_did_not_pass_worst_first() -> None:
    report = {
        "rules": [rule("pass"), rule("review")],
        "children": [{"path": "cell 2 / output 1", "rules": [rule("fail")], "children": []}],
    }
    found = flagged.findings(report)
    assert [(f["status"], f["where"]) for f in found] == [
        ("fail", "cell 2 / output 1"),
        ("review", ""),
    ]


def test_a_report_without_rules_has_no_findings_and_no_flagged_cells() -> None:
    assert flagged.findings({}) == []
    assert flagged.flagged_cells({}) == {}


def test_flagged_cells_gather_every_reason_and_ignore_passing_rules() -> None:
    report = {
        "rules": [
            rule("fail", [[0, 1], [1, 0]]),
            rule("review", [[0, 1]], name="dominance"),
            rule("pass", [[1, 1]], name="zeros"),
        ]
    }
    assert flagged.flagged_cells(report) == {
        (0, 1): ["threshold: fail here", "dominance: review here"],
        (1, 0): ["threshold: fail here"],
    }


def test_a_table_marks_flagged_value_cells_and_never_its_labels() -> None:
    data = b"sexe,A,B\nF,12,3\nM,20,15\n"
    report = {"rules": [rule("fail", [[0, 1]])]}
    table = flagged.flagged_table(data, report)
    assert table.header == ("sexe", "A", "B")
    assert table.labels == 1
    assert [[c.flags for c in row] for row in table.rows] == [
        [(), (), ("threshold: fail here",)],
        [(), (), ()],
    ]
    assert not table.truncated
    assert table.as_json() == {
        "header": ["sexe", "A", "B"],
        "labels": 1,
        "rows": [
            {
                "cells": [
                    {"value": "F", "flags": []},
                    {"value": "12", "flags": []},
                    {"value": "3", "flags": ["threshold: fail here"]},
                ]
            },
            {
                "cells": [
                    {"value": "M", "flags": []},
                    {"value": "20", "flags": []},
                    {"value": "15", "flags": []},
                ]
            },
        ],
        "truncated": False,
    }


def test_a_long_table_keeps_its_first_rows_and_says_it_was_cut() -> None:
    data = ("n\n" + "".join(f"{i}\n" for i in range(5))).encode()
    table = flagged.flagged_table(data, {}, max_rows=3)
    assert [row[0].value for row in table.rows] == ["0", "1", "2"]
    assert table.truncated


def test_ragged_rows_are_padded_and_an_empty_file_is_an_empty_table() -> None:
    table = flagged.flagged_table(b"a,b\n1\n", {})
    assert [c.value for c in table.rows[0]] == ["1", ""]
    empty = flagged.flagged_table(b"", {})
    assert (empty.header, empty.rows, empty.truncated) == ((), (), False)
    header_only = flagged.flagged_table(b"a,b\n", {})
    assert (header_only.header, header_only.labels) == (("a", "b"), 0)


def test_the_reports_label_columns_place_the_flags_even_where_labels_look_like_numbers() -> None:
    """Département codes are digits: only the checker, which read the table with its
    evidence, knows that the first column is a label, and its report says so."""
    data = b"departement,F,M\n06,15,15\n48,0,3\n"
    report = {"labels": 1, "rules": [rule("fail", [[1, 1]]), rule("review", [[1, 0]], "zeros")]}
    table = flagged.flagged_table(data, report)
    assert table.labels == 1
    flagged_values = [(c.value, c.flags) for row in table.rows for c in row if c.flags]
    assert flagged_values == [("0", ("zeros: review here",)), ("3", ("threshold: fail here",))]


def test_a_table_checked_with_its_evidence_reports_its_label_columns(tmp_path: Path) -> None:
    frame = pd.DataFrame({"dep": ["06"] * 30 + ["48"] * 3, "sexe": ["F", "M"] * 15 + ["M"] * 3})
    safe.crosstab(frame.dep, frame.sexe, name="t", outputs=tmp_path)
    report = check_paths([tmp_path / "t.csv"], Context(load_profile("fr"))).as_dict()
    (item,) = report["items"]
    assert item["labels"] == 1
    table = flagged.flagged_table((tmp_path / "t.csv").read_bytes(), item)
    assert not any(row[0].flags for row in table.rows)  # a label is never a flagged count
    marked = {(row[0].value, c.value) for row in table.rows for c in row[1:] if c.flags}
    assert {("48", "0"), ("48", "3")} <= marked
