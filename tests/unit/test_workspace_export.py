"""The export routes' pieces that need no server (workspace/export.py): the verdict in words,
the checker that cannot run, where a request's sources are recorded, and a draft that
cannot be withdrawn."""

from __future__ import annotations

import asyncio
import logging
import socket
from pathlib import Path
from types import SimpleNamespace
from typing import cast

import pytest

from agoria_tre.workspace import export
from agoria_tre.workspace.airlock import AirlockClient
from agoria_tre.workspace.outgoing import Outgoing, Refused, Source


def settings(state_dir: Path) -> export.ExportSettings:
    return export.ExportSettings(
        root=str(state_dir), project="cardio", user="alice", airlock=None,
        airlock_page="/services/airlock/", state_dir=state_dir,
    )  # fmt: skip


def test_each_verdict_reads_as_a_sentence() -> None:
    assert export._plain("pass", {}) == "Every rule passed."
    one = {"rules": [{"rule": "zeros", "status": "review", "summary": "s"}]}
    assert export._plain("review", one) == "1 point for a reviewer to judge."
    fails = {"rules": [{"rule": "threshold", "status": "fail", "summary": "s"}] * 2}
    assert export._plain("fail", fails).startswith("2 findings failed: fix the output")


def test_a_checker_that_cannot_run_is_a_clean_refusal() -> None:
    item = Outgoing(Source("t.csv"), "t.csv", b"a,b\n1,2\n", None, None)
    with pytest.raises(Refused) as refused:
        export.check_items([item], profile="no-such-profile")
    assert (refused.value.status, refused.value.code) == (500, "check_failed")


def test_sources_are_recorded_and_read_back(tmp_path: Path) -> None:
    where = settings(tmp_path / "exports")
    items = [Outgoing(Source("n.ipynb", ("c1",)), "n-cells.ipynb", b"{}", None, None)]
    export.remember(where, "r1", items)
    assert export.recall(where, "r1") == {"n-cells.ipynb": Source("n.ipynb", ("c1",))}
    with pytest.raises(Refused) as unknown:
        export.recall(where, "r2")
    assert unknown.value.code == "unknown_sources"
    for bad in ("", "a/b", ".hidden"):
        with pytest.raises(Refused):
            export.recall(where, bad)


def test_sources_that_cannot_be_recorded_mean_nothing_was_submitted(tmp_path: Path) -> None:
    (tmp_path / "full").write_text("")  # a file where the folder would go
    where = settings(tmp_path / "full" / "exports")
    with pytest.raises(Refused) as refused:
        export.remember(where, "r1", [])
    assert (refused.value.status, refused.value.code) == (507, "no_space")
    assert "nothing was submitted" in refused.value.message


def test_a_draft_that_cannot_be_withdrawn_is_logged_and_the_first_error_stands(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))  # bound, never listening: the airlock has gone
        gone = AirlockClient(f"http://127.0.0.1:{sock.getsockname()[1]}/services/airlock/", "t")
        handler = cast(export.RequestsHandler, SimpleNamespace(airlock=gone))
        with caplog.at_level(logging.WARNING, logger=export.__name__):
            asyncio.run(export.RequestsHandler._abandon(handler, "r1"))
    assert "request r1 could not be withdrawn" in caplog.text
