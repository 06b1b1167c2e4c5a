"""What a workspace would send (workspace/outgoing.py), read from a folder on disk: the
corners the export routes' tests do not reach through HTTP."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agoria_tre.workspace.outgoing import (
    Refused,
    Source,
    collect,
    evidence_path,
    notebook_cells,
    read_file,
)


def test_a_missing_folder_on_the_way_means_no_such_file(tmp_path: Path) -> None:
    assert read_file(str(tmp_path), "absent/t.csv") is None
    assert read_file(str(tmp_path), "t.csv") is None


def test_a_name_the_system_cannot_open_is_refused_as_unreadable(tmp_path: Path) -> None:
    with pytest.raises(Refused) as refused:
        read_file(str(tmp_path), "x" * 300 + "/t.csv")
    assert (refused.value.status, refused.value.code) == (400, "unreadable")
    assert "File name too long" in refused.value.message


def test_a_file_without_a_suffix_has_no_evidence_sidecar() -> None:
    assert evidence_path("README") is None
    assert evidence_path("out/t.csv") == "out/t.evidence.json"


@pytest.mark.parametrize(
    "notebook", [{"cells": {"a": 1}}, {"nbformat": 4}, ["cells"]], ids=["dict", "none", "list"]
)
def test_a_notebook_whose_cells_are_not_a_list_is_refused(notebook: object) -> None:
    with pytest.raises(Refused) as refused:
        notebook_cells(json.dumps(notebook).encode(), ["a"], "n.ipynb")
    assert refused.value.code == "bad_notebook"


@pytest.mark.parametrize("name", ["new\nline.csv", "tab\t.csv", "bell\x07.csv", " t.csv"])
def test_a_name_the_airlock_would_refuse_is_refused_before_it_is_read(
    tmp_path: Path, name: str
) -> None:
    (tmp_path / name).write_text("a,b\n1,2\n")
    with pytest.raises(Refused) as refused:
        collect(str(tmp_path), Source(name))
    assert (refused.value.status, refused.value.code) == (400, "bad_name")
    assert "rename the file" in refused.value.message
