"""How the checker reads what it is given: each file once, through one descriptor, never
through a link, never hanging on a FIFO, and never skipping a folder it cannot read."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from agoria_tre.disclosure import files
from agoria_tre.disclosure.checker import Context, check_paths
from agoria_tre.disclosure.policy import load_profile
from agoria_tre.disclosure.status import Status

AGORIA = str(Path(sys.executable).with_name("agoria-tre"))
SMALL = "sex,A,B\nF,3,300\nM,90,250\n"  # a cell of 3: fails
SOUND = "sex,A,B\nF,120,300\nM,90,250\n"


def test_a_regular_file_is_read_whole(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text(SOUND)
    assert files.read_once(path, 1000) == SOUND.encode()
    empty = tmp_path / "empty.csv"
    empty.touch()
    assert files.read_once(empty, 10) == b""


def test_a_big_file_is_refused_by_its_size(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_bytes(b"x" * 3_000_000)
    assert files.read_once(path, 2_999_999) == files.Refusal(
        "file.limits", "the file has 3,000,000 bytes, over the limit of 2,999,999"
    )
    assert files.read_once(path, 3_000_000) == b"x" * 3_000_000  # read in several parts


def test_a_file_that_grows_while_it_is_read_stops_at_the_limit() -> None:
    """/proc files say they are empty and are not: what the descriptor gives is what counts."""
    assert files.read_once(Path("/proc/self/status"), 10) == files.Refusal(
        "file.limits", "the file grew past the limit of 10 bytes as it was read"
    )


def test_links_folders_fifos_and_missing_files_are_refused_unread(tmp_path: Path) -> None:
    outside = tmp_path / "outside.csv"
    outside.write_text(SMALL)
    link = tmp_path / "link.csv"
    link.symlink_to(outside)
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)  # opened without blocking: no writer is waited for
    assert files.read_once(link, 1000) == files.Refusal(
        "file.type", "a link: only regular files may leave"
    )
    assert files.read_once(fifo, 1000) == files.Refusal(
        "file.type", "a special file (FIFO, device): only regular files may leave"
    )
    assert files.read_once(tmp_path, 1000) == files.Refusal(
        "file.type", "a folder: only regular files may leave"
    )
    assert files.read_once(tmp_path / "absent.csv", 1000) == files.Refusal(
        "file.unreadable", "cannot be read: No such file or directory"
    )
    assert files.read_once(outside / "below", 1000) == files.Refusal(
        "file.unreadable", "cannot be read: Not a directory"
    )


def test_a_read_error_is_a_refusal() -> None:
    """/proc/self/mem is a regular file that fails to read at offset 0: an error after the
    descriptor was checked."""
    assert files.read_once(Path("/proc/self/mem"), 1000) == files.Refusal(
        "file.unreadable", "cannot be read: Input/output error"
    )


def test_a_file_swapped_for_a_link_during_the_check_is_not_followed(tmp_path: Path) -> None:
    """The walk saw a regular file; by the time it is read it is a link to a file outside
    the folder. What is read is the descriptor's, never the link's target."""
    folder = tmp_path / "outputs"
    folder.mkdir()
    table = folder / "t.csv"
    table.write_text(SOUND)
    secret = tmp_path / "secret.csv"
    secret.write_text(SMALL)
    entries = files.walk([folder])
    table.unlink()
    table.symlink_to(secret)  # the swap, between the walk and the read
    assert [e.label for e in entries] == ["outputs/t.csv"]
    assert files.read_once(entries[0].path, 1000) == files.Refusal(
        "file.type", "a link: only regular files may leave"
    )


def test_the_walk_lists_links_and_does_not_follow_them(tmp_path: Path) -> None:
    folder = tmp_path / "outputs"
    (folder / "sub").mkdir(parents=True)
    (folder / "sub" / "b.csv").write_text(SOUND)
    (folder / "a.csv").write_text(SOUND)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "c.csv").write_text(SMALL)
    (folder / "linked").symlink_to(elsewhere)
    entries = files.walk([folder, tmp_path / "elsewhere" / "c.csv"])
    assert [e.label for e in entries] == [
        "c.csv", "outputs/a.csv", "outputs/linked", "outputs/sub/b.csv"
    ]  # fmt: skip
    assert all(e.unlisted is None for e in entries)
    report = check_paths([folder], Context(load_profile("fr")))
    linked = next(i for i in report.items if i.path == "outputs/linked")
    assert [(r.rule, r.status.value) for r in linked.rules] == [("file.type", "fail")]


def test_relative_paths_keep_their_labels(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("t.csv").write_text(SOUND)
    assert [e.label for e in files.walk([Path("t.csv")])] == ["t.csv"]


@pytest.fixture
def shared() -> Iterator[Path]:
    """A folder another user may enter (pytest's own are root's only)."""
    folder = Path(tempfile.mkdtemp(prefix="agoria-check-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder)


def test_a_folder_that_cannot_be_read_fails_instead_of_being_skipped(shared: Path) -> None:
    """Run as another user: a subfolder it cannot list holds a failing table. The check
    fails naming that folder; before, the folder passed on what could be read."""
    folder = shared / "outputs"
    hidden = folder / "hidden"
    hidden.mkdir(parents=True)
    (folder / "safe.csv").write_text(SOUND)
    (hidden / "small.csv").write_text(SMALL)
    folder.chmod(0o755)
    (folder / "safe.csv").chmod(0o644)
    hidden.chmod(0o700)  # root's own
    env = {"PATH": os.environ["PATH"], "LANG": "C.UTF-8", "HOME": "/tmp"}
    done = subprocess.run(
        ["setpriv", "--reuid=nobody", "--regid=nogroup", "--init-groups",
         AGORIA, "check", "--format", "json", str(folder)],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    assert '"path": "outputs/hidden"' in done.stdout
    assert "a folder that cannot be read: Permission denied" in done.stdout


def test_a_fifo_swapped_in_does_not_hang_the_check(tmp_path: Path) -> None:
    folder = tmp_path / "outputs"
    folder.mkdir()
    os.mkfifo(folder / "t.csv")
    result: list[object] = []
    thread = threading.Thread(
        target=lambda: result.append(check_paths([folder], Context(load_profile("fr")))),
        daemon=True,
    )
    thread.start()
    thread.join(timeout=60)
    assert result, "the check hung on a FIFO"


def test_a_folder_too_deep_to_be_named_fails_instead_of_being_skipped(tmp_path: Path) -> None:
    """A path longer than the system allows cannot be listed even by root: the folder that
    could not be read is an item that fails, with what it would have held unseen."""
    folder = tmp_path / "outputs"
    folder.mkdir()
    (folder / "safe.csv").write_text(SOUND)
    here = os.open(folder, os.O_RDONLY)
    try:
        for _ in range(25):  # 25 x 201 characters: past PATH_MAX (4,096)
            os.mkdir("d" * 200, dir_fd=here)
            deeper = os.open("d" * 200, os.O_RDONLY, dir_fd=here)
            os.close(here)
            here = deeper
        fd = os.open("small.csv", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=here)
        os.write(fd, SMALL.encode())
        os.close(fd)
    finally:
        os.close(here)
    entries = files.walk([folder])
    unlisted = [e for e in entries if e.unlisted is not None]
    assert len(unlisted) == 1
    assert unlisted[0].unlisted == "a folder that cannot be read: File name too long"
    report = check_paths([folder], Context(load_profile("fr")))
    assert report.status.value == "fail"
    shutil.rmtree(folder)


def test_a_path_given_that_does_not_exist_fails(tmp_path: Path) -> None:
    absent = tmp_path / "absent.csv"
    assert files.walk([absent]) == [files.Found(absent, "absent.csv")]
    report = check_paths([absent], Context(load_profile("fr")))
    assert [(r.rule, r.summary) for r in report.items[0].rules] == [
        ("file.unreadable", "cannot be read: No such file or directory")
    ]


def test_file_names_cannot_redraw_the_text_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A name with terminal escapes once forged a PASS line on screen: the text report
    shows control and format characters as escapes."""
    from agoria_tre.cli.main import main

    folder = tmp_path / "outputs"
    folder.mkdir()
    forged = "small\x1b[2K\r\u202ePASS.csv"
    (folder / forged).write_text(SMALL)
    with pytest.raises(SystemExit):
        main(["check", str(folder)])
    out = capsys.readouterr().out
    assert "\x1b" not in out
    assert "\r" not in out
    assert "\u202e" not in out
    assert "outputs/small\\x1b[2K\\r\\u202ePASS.csv" in out


def test_files_the_time_budget_does_not_reach_fail_unread(tmp_path: Path) -> None:
    for name in ("a.csv", "b.csv"):
        (tmp_path / name).write_text("sex,n\nF,30\nM,40\n")
    report = check_paths([tmp_path], Context(load_profile("fr"), budget_seconds=0.0))
    assert [i.status for i in report.items] == [Status.FAIL, Status.FAIL]
    assert all(
        r.rule == "file.limits" and "time budget of 0 s ran out" in r.summary
        for i in report.items
        for r in i.rules
    )
    assert check_paths([tmp_path], Context(load_profile("fr"))).status is Status.PASS
