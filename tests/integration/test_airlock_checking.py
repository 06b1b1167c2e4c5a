"""The airlock's check of a request (airlock/checking.py), run in a real child process: the
checker's own JSON report with the project's pseudonyms and released tables, and a check
that exceeds its wall-clock, CPU or memory limit ends without a report and with the reason."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from agoria_tre.airlock.checking import CheckLimits, run_check

PSEUDONYM = "K7Q2M9XW4RT8ZB3N6PD5HV1CJA"  # shaped like none of the platform's (26 chars)


def rules(report: dict[str, Any]) -> dict[str, str]:
    [item] = report["items"]
    return {r["rule"]: r["status"] for r in item["rules"]}


def request(tmp_path: Path, name: str, text: str) -> Path:
    folder = tmp_path / "request"
    folder.mkdir(parents=True)
    (folder / name).write_text(text)
    return folder


def test_the_report_is_the_checkers(tmp_path: Path) -> None:
    run = run_check([request(tmp_path, "deaths.csv", "sex,n\nF,40\nM,3\n")])
    assert run.failure == ""
    assert run.report is not None
    assert run.report["status"] == "fail"
    assert rules(run.report)["threshold"] == "fail"


def test_the_projects_pseudonyms_and_released_tables_are_used(tmp_path: Path) -> None:
    released = tmp_path / "released"
    released.mkdir()
    (released / "by_sex.csv").write_text("sex,n\nF,35\nM,60\n")
    folder = request(tmp_path, "main.csv", "sex,A,B\nF,*,30\nM,20,40\n")
    run = run_check([folder], released=[released])
    assert run.report is not None
    assert rules(run.report)["secondary_suppression"] == "fail"

    pseudonyms = tmp_path / "pseudonyms.txt"
    pseudonyms.write_text(f"{PSEUDONYM}\n")
    listing = request(tmp_path / "second", "cases.csv", f"patient,n\n{PSEUDONYM},40\n")
    run = run_check([listing], pseudonyms=pseudonyms)
    assert run.report is not None
    assert rules(run.report)["identifier.pseudonym"] == "fail"


def test_a_check_past_its_wall_clock_limit_is_stopped(tmp_path: Path) -> None:
    run = run_check(
        [request(tmp_path, "t.csv", "sex,n\nF,40\n")], limits=CheckLimits(wall_seconds=0.01)
    )
    assert (run.report, run.failure) == (None, "the check took longer than 0.01 s")


def test_a_check_past_its_cpu_limit_is_stopped(tmp_path: Path) -> None:
    numbers = " ".join(str(k % 97) for k in range(1_500_000))  # seconds of work
    run = run_check([request(tmp_path, "line.txt", numbers)], limits=CheckLimits(cpu_seconds=1))
    assert run.report is None
    assert run.failure == (
        "the check was stopped (SIGXCPU); it is held to 1 s of CPU, 2,147,483,648 bytes of memory"
    )


def test_a_check_past_its_memory_limit_ends_without_a_report(tmp_path: Path) -> None:
    limits = CheckLimits(memory_bytes=64 * 1024**2)  # less than the checker's imports need
    run = run_check([request(tmp_path, "t.csv", "sex,n\nF,40\n")], limits=limits)
    assert run.report is None
    assert run.failure.startswith("the check ended without its report (exit status 1)")
    assert "67,108,864 bytes of memory" in run.failure


@pytest.mark.parametrize("output", [b"", b"[]", b"{}", b"not json"])
def test_output_that_is_no_report_is_none(output: bytes) -> None:
    from agoria_tre.airlock.checking import _report

    assert _report(output) is None


def test_the_canonical_form_of_each_file_is_written_by_its_hash(tmp_path: Path) -> None:
    folder = request(tmp_path, "deaths.csv", "sex;n\r\nF;40\r\nM;30\r\n")
    out = tmp_path / "canonical"
    run = run_check([folder / "deaths.csv"], canonical_out=out)
    assert run.report is not None
    (item,) = run.report["items"]
    assert item["path"] == "deaths.csv"
    assert (out / item["sha256"]).read_bytes() == b"sex,n\nF,40\nM,30\n"
