"""``agoria-tre dataset ingest`` and friends as an operator runs them: refusals with exit 2
and nothing written, interruptions that leave nothing behind, copies made at grant time."""

from __future__ import annotations

import json
import os
import re
import resource
import signal
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import pytest

from agoria_tre.catalog.db import Catalog
from agoria_tre.config import Settings
from agoria_tre.ingest import demo
from agoria_tre.ingest.keys import create_key_file
from agoria_tre.testing.platform import operator_env
from tests.support import snapshot

AGORIA = str(Path(sys.executable).with_name("agoria-tre"))
DROP = ["--drop", "nom", "--drop", "prenom", "--drop", "nir", "--drop", "adresse",
        "--drop", "telephone"]  # fmt: skip
PATIENT_ROLES = ["--id-column", "ipp", *DROP, "--date-of-birth", "date_naissance",
                 "--quasi", "sexe", "--quasi", "departement"]  # fmt: skip


def profile(files: demo.DemoFiles, extract: str) -> list[str]:
    """The demo extract's own ingest profile."""
    return ["--profile", str(files.profile(extract))]


def run(
    env: dict[str, str], *args: str, limit_file_bytes: int | None = None
) -> subprocess.CompletedProcess[str]:
    def limits() -> None:
        if limit_file_bytes is not None:
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit_file_bytes, limit_file_bytes))

    return subprocess.run(
        [AGORIA, *args],
        env=operator_env(env),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        preexec_fn=limits,
    )


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    create_key_file(tmp_path / "keys" / "platform.key")
    values = {
        "AGORIA_HOME": str(tmp_path / "home"),
        "AGORIA_KEY_FILE": str(tmp_path / "keys" / "platform.key"),
    }
    assert run(values, "init").returncode == 0
    return values


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> demo.DemoFiles:
    return demo.generate(tmp_path_factory.mktemp("extracts"), patients=200, seed=3)


def state(env: dict[str, str]) -> tuple[object, list[str]]:
    """The catalog's rows and every file under the data directory but the catalog's own."""
    catalog = Catalog(Settings.from_env(env))
    try:
        rows = snapshot(catalog)
    finally:
        catalog.dispose()
    home = Path(env["AGORIA_HOME"])
    names = sorted(
        str(p.relative_to(home))
        for p in home.rglob("*")
        if p.is_file() and not p.name.startswith("catalog.sqlite") and "audit" not in p.parts
    )
    return rows, names


def test_demo_data_ingest_grant_show_from_the_command_line(
    env: dict[str, str], tmp_path: Path
) -> None:
    out = tmp_path / "extracts"
    made = run(env, "demo-data", "--patients", "150", "--seed", "9", "--out", str(out), "--json")
    assert made.returncode == 0, made.stderr
    assert json.loads(made.stdout)["files"]["patients"] == 150
    done = run(
        env, "dataset", "ingest", str(out / "patients.csv"), "--name", "patients",
        *PATIENT_ROLES,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("patients@1: 150 rows, 4 columns")
    assert "WARNING" in done.stderr  # the planted département of 3 patients
    assert "classes of the quasi-identifiers hold fewer than 11 records" in done.stderr
    quiet = run(
        env, "dataset", "ingest", str(out / "adverse_events.csv"), "--name", "adverse_events",
        "--profile", str(out / "adverse_events.toml"), "--json",
    )  # fmt: skip
    assert quiet.returncode == 0, quiet.stderr
    assert quiet.stderr == ""
    again = run(
        env, "dataset", "ingest", str(out / "adverse_events.csv"), "--name", "adverse_events",
        "--profile", str(out / "adverse_events.toml"), "--json",
    )  # fmt: skip
    assert json.loads(again.stdout)["dataset"] == "adverse_events@2"
    assert json.loads(again.stdout)["warnings"] == [
        "the same source was ingested before as adverse_events@1"
    ]
    assert json.loads(quiet.stdout)["manifest"]["sources"][0]["encoding"] == "cp1252"
    created = run(env, "project", "create", "eap", "--title", "EAP", "--legal-basis", "MR-004")
    assert created.returncode == 0, created.stderr
    until = (date.today() + timedelta(days=30)).isoformat()
    granted = run(env, "grant", "add", "eap", "patients@1", "--reference", "C-1", "--until", until)
    assert granted.returncode == 0, granted.stderr
    assert "copy of patients@1 for eap created" in granted.stdout
    shown = json.loads(run(env, "dataset", "show", "patients@1", "--json").stdout)
    assert [c["project"] for c in shown["copies"]] == ["eap"]
    assert shown["key_fingerprint"]
    assert shown["k_anonymity"]["smallest_class"] >= 1
    revoked = run(env, "grant", "revoke", "eap", "patients@1")
    assert revoked.returncode == 0, revoked.stderr
    assert "copy of patients@1 for eap removed" in revoked.stdout
    assert json.loads(run(env, "dataset", "show", "patients@1", "--json").stdout)["copies"] == []
    verify = run(env, "audit", "verify")
    assert verify.returncode == 0, verify.stderr
    actions = [
        e["action"] for e in json.loads(run(env, "audit", "show", "--json", "--limit", "50").stdout)
    ]
    assert {"dataset.register", "copy.create", "copy.remove"} <= set(actions)


def test_grant_without_a_key_on_this_host_leaves_the_copy_pending(
    env: dict[str, str], files: demo.DemoFiles
) -> None:
    made = run(
        env, "dataset", "ingest", str(files.outcomes), "--name", "o", *profile(files, "outcomes")
    )
    assert made.returncode == 0, made.stderr
    created = run(env, "project", "create", "proj-one", "--title", "P", "--legal-basis", "MR-4")
    assert created.returncode == 0, created.stderr
    until = (date.today() + timedelta(days=30)).isoformat()
    keyless = {k: v for k, v in env.items() if k != "AGORIA_KEY_FILE"}
    granted = run(
        keyless, "grant", "add", "proj-one", "o@1", "--reference", "C-1", "--until", until
    )
    assert granted.returncode == 0, granted.stderr
    assert "pending (no platform key on this host" in granted.stderr
    reconciled = run(env, "dataset", "reconcile", "--json")
    assert reconciled.returncode == 0, reconciled.stderr
    assert [(c["project"], c["action"]) for c in json.loads(reconciled.stdout)] == [
        ("proj-one", "created")
    ]
    assert run(env, "dataset", "reconcile").stdout.strip() == (
        "copies agree with the grants in force"
    )


def bad_csv(tmp_path: Path, name: str, text: str | bytes) -> str:
    path = tmp_path / name
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return str(path)


def test_every_bad_input_is_refused_with_exit_2_and_nothing_written(
    env: dict[str, str], files: demo.DemoFiles, tmp_path: Path
) -> None:
    ok = ["--name", "p", *PATIENT_ROLES]
    ab = ["--id-column", "ipp", "--attribute", "a", "--attribute", "b"]
    patients = str(files.patients)
    short_key = tmp_path / "short.key"
    short_key.write_bytes(b"k" * 16)
    short_key.chmod(0o600)
    loose_key = tmp_path / "loose.key"
    loose_key.write_bytes(os.urandom(32))
    loose_key.chmod(0o644)
    home_key = Path(env["AGORIA_HOME"]) / "platform.key"
    home_key.write_bytes(os.urandom(32))
    home_key.chmod(0o600)
    ragged = "ipp,a,b\n1,2,3\n4,5\n6,7,8\n9,9,9,9\n"
    telephone_kept = [*PATIENT_ROLES[:10], *PATIENT_ROLES[12:], "--attribute", "telephone"]
    birth_kept = [*PATIENT_ROLES[:12], *PATIENT_ROLES[14:], "--attribute", "date_naissance"]
    cases: list[tuple[list[str], str]] = [
        ([patients, "--name", "p", "--id-column", "ipx"],
         "patients.csv, line 1: no column 'ipx' for --id-column"),
        ([patients, *ok, "--drop", "adresse2"], "no column 'adresse2' for --drop"),
        ([bad_csv(tmp_path, "ragged.csv", ragged), "--name", "r", *ab],
         "ragged.csv, line 3: 2 fields where the header has 3"),
        ([bad_csv(tmp_path, "ragged.csv", ragged), "--name", "r", *ab, "--skip-bad-rows", "1"],
         "ragged.csv, line 5: 4 fields where the header has 3; --skip-bad-rows 1 allows no more"),
        ([bad_csv(tmp_path, "empty.csv", ""), *ok], "empty.csv is empty"),
        ([bad_csv(tmp_path, "header.csv", "ipp,a\n"), "--name", "h", *ab[:4]],
         "header.csv: no data rows"),
        ([bad_csv(tmp_path, "bin.csv", b"\x00\x01\x02PK\x03\x04"), *ok], "binary content"),
        ([bad_csv(tmp_path, "dob.csv", "ipp,dob\n1,1950-01-02\n2,inconnue\n"), "--name", "d",
          "--id-column", "ipp", "--date-of-birth", "dob"],
         "dob.csv, line 3, column 'dob': the value is not a date"),
        ([str(tmp_path / "absent.csv"), *ok], "absent.csv does not exist"),
        ([patients, "--name", "Bad Name", *PATIENT_ROLES], "dataset name"),
        ([patients, *ok, "--key-file", str(tmp_path / "nokey")], "nokey does not exist"),
        ([patients, *ok, "--key-file", str(short_key)], "a key needs at least 32"),
        ([patients, *ok, "--key-file", str(loose_key)], "can be read by others"),
        ([patients, *ok, "--key-file", str(home_key)], "inside the data directory"),
        ([patients, *ok, "--encoding", "klingon"], "unknown encoding 'klingon'"),
        ([patients, *ok, "--drop", "ipp"],
         "column 'ipp' has two roles: id (--id-column) and drop (--drop)"),
        ([patients, "--name", "p", *telephone_kept],
         "patients.csv, column 'telephone': its name says it holds a person's name, address,"
         " phone, e-mail or social security number, and it is declared attribute: declare it"
         " --drop or --id-column, or --keep-column telephone once a person has checked that it"
         " does not"),
        ([patients, "--name", "p", *birth_kept],
         "column 'date_naissance': its name says it holds a birth date, and it is declared"
         " attribute: declare it --date-of-birth or --drop"),
        ([patients, "--name", "p", "--id-column", "ipp", *DROP],
         "patients.csv: 3 column(s) without a role: 'date_naissance', 'sexe', 'departement'."),
        ([bad_csv(tmp_path, "notes.csv", "ipp,remarque\n1,rappeler le 06 12 34 56 78\n"),
          "--name", "n", "--id-column", "ipp", "--free-text", "remarque"],
         "notes.csv, line 2, column 'remarque': holds a phone number (free_text columns are"
         " kept): remove it at the source, or --drop the column"),
        ([bad_csv(tmp_path, "dob2.csv", "ipp,dob\n1,1950-13-45\n"), "--name", "d",
          "--id-column", "ipp", "--date-of-birth", "dob"],
         "dob2.csv, line 2, column 'dob': the value is not a date"),
        ([patients, *ok, "--encoding", "utf-16"], "encoding 'utf-16' is not read here"),
        ([bad_csv(tmp_path, "nohdr.csv", "080000004,ROBERT,Antoine,1959-10-30\n"),
          "--name", "n", "--id-column", "ipp"],
         "nohdr.csv, line 1: no column 'ipp' for --id-column (the header has 4 columns; is its"
         " first line a header?)"),
        # No digits: the first record looks like names, and is still not echoed.
        ([bad_csv(tmp_path, "names.csv", "ROBERT,Antoine,Marseille\nDURAND,Anne,Lyon\n"),
          "--name", "n", "--id-column", "ipp"],
         "names.csv, line 1: no column 'ipp' for --id-column (the header has 3 columns"),
    ]  # fmt: skip
    before = state(env)
    for args, message in cases:
        done = run(env, "dataset", "ingest", *args)
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        assert message in done.stderr, (args, done.stderr)
        assert done.stderr.count("\n") == 1, done.stderr  # one line, no traceback
        assert "ROBERT" not in done.stderr  # a record's values are never echoed
        assert state(env) == before, args
    keyless = {k: v for k, v in env.items() if k != "AGORIA_KEY_FILE"}
    done = run(keyless, "dataset", "ingest", patients, *ok)
    assert done.returncode == 2
    assert "no platform key: set AGORIA_KEY_FILE" in done.stderr


def test_skipped_bad_rows_are_listed_in_the_manifest(env: dict[str, str], tmp_path: Path) -> None:
    source = bad_csv(tmp_path, "few.csv", "ipp,a\n1,x\n2,y,EXTRA\n3,z\n4\n5,w\n")
    done = run(env, "dataset", "ingest", source, "--name", "few", "--id-column", "ipp",
               "--attribute", "a", "--skip-bad-rows", "2", "--json")  # fmt: skip
    assert done.returncode == 0, done.stderr
    manifest = json.loads(done.stdout)["manifest"]
    assert manifest["row_count"] == 3
    assert manifest["bad_rows"] == [
        {"file": "few.csv", "line": 3, "fields": 3, "expected": 2},
        {"file": "few.csv", "line": 5, "fields": 1, "expected": 2},
    ]
    assert "EXTRA" not in json.dumps(manifest)  # a bad row's text is never kept


def big_extract(path: Path, rows: int) -> None:
    """A large extract, quickly: the demo's patients file repeated, each repetition with
    identifiers of its own (so that pseudonyms, and the stored version, do not compress
    into a few repeated values)."""
    lines = demo.generate(path.parent / "seed", patients=2000, seed=1).patients.read_text()
    header, *body = lines.splitlines()
    with path.open("w") as handle:
        handle.write(header + "\n")
        for repetition in range(rows // len(body)):
            handle.write("".join(f"{repetition:03d}{line}\n" for line in body))


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Path:
    source = tmp_path_factory.mktemp("big") / "big.csv"
    big_extract(source, 2_000_000)
    return source


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGINT, signal.SIGKILL])
def test_an_interrupted_ingest_leaves_nothing_behind(
    env: dict[str, str], tmp_path: Path, big: Path, how: signal.Signals
) -> None:
    source = big
    before = state(env)
    process = subprocess.Popen(
        [
            AGORIA,
            "dataset",
            "ingest",
            str(source),
            "--name",
            "big",
            *PATIENT_ROLES,
        ],
        env=operator_env(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    incoming = Path(env["AGORIA_HOME"]) / "datasets" / ".incoming"
    while not any(incoming.glob("big.*/data.parquet")) and process.poll() is None:
        time.sleep(0.01)
    assert process.poll() is None, "the ingest ended before it could be interrupted"
    process.send_signal(how)
    _, err = process.communicate(timeout=120)
    rows, written = state(env)
    assert rows == before[0]  # no catalog row, no audit event
    if how is signal.SIGKILL:
        assert process.returncode == -signal.SIGKILL
        # A killed process cannot clean up: its build folder is left, and swept by the next.
        assert written
        assert all(w.startswith("datasets/.incoming/big.") for w in written)
        small = tmp_path / "small.csv"
        small.write_text("ipp,a\n1,2\n")
        again = run(
            env, "dataset", "ingest", str(small), "--name", "big", "--id-column", "ipp",
            "--attribute", "a",
        )  # fmt: skip
        assert again.returncode == 0, again.stderr
        assert again.stdout.startswith("big@1: 1 rows")
        assert not list(incoming.iterdir())
    else:
        assert process.returncode == 130, err
        assert "interrupted" in err
        assert written == []
    assert run(env, "audit", "verify").returncode == 0


def test_a_full_disk_is_refused_cleanly(env: dict[str, str], tmp_path: Path) -> None:
    source = tmp_path / "big.csv"
    big_extract(source, 400_000)
    catalog_bytes = (Path(env["AGORIA_HOME"]) / "catalog.sqlite").stat().st_size
    before = state(env)
    # Files may not grow much past the catalog's size: the version's data file will.
    done = run(
        env, "dataset", "ingest", str(source), "--name", "t", *PATIENT_ROLES,
        limit_file_bytes=catalog_bytes + (64 << 10),
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert "cannot write the dataset version" in done.stderr
    assert "nothing was registered" in done.stderr
    assert state(env) == before


def test_progress_is_shown_on_a_terminal_only(env: dict[str, str], files: demo.DemoFiles) -> None:
    import pty

    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [
            AGORIA,
            "dataset",
            "ingest",
            str(files.treatments),
            "--name",
            "t",
            *profile(files, "treatments"),
        ],
        env=operator_env(env),
        stdout=subprocess.PIPE,
        stderr=follower,
        text=True,
    )
    os.close(follower)
    out, _ = process.communicate(timeout=120)
    shown = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:
            break
        if not chunk:
            break
        shown += chunk
    os.close(leader)
    assert process.returncode == 0
    assert out.startswith("t@1: ")
    assert b"rows" in shown
    assert b"MB/s" in shown
    assert b"ETA" in shown


def test_a_column_whose_name_looks_identifying_can_be_kept_once_checked(
    env: dict[str, str], tmp_path: Path
) -> None:
    source = bad_csv(tmp_path, "ward.csv", "ipp,nom_service,n\n1,cardiologie,3\n2,neurologie,4\n")
    roles = ["--id-column", "ipp", "--attribute", "nom_service", "--attribute", "n"]
    refused = run(env, "dataset", "ingest", source, "--name", "w", *roles)
    assert refused.returncode == 2
    assert "column 'nom_service': its name says it holds a person's name" in refused.stderr
    kept = run(env, "dataset", "ingest", source, "--name", "w", *roles,
               "--keep-column", "nom_service", "--json")  # fmt: skip
    assert kept.returncode == 0, kept.stderr
    assert json.loads(kept.stdout)["manifest"]["options"]["keep_columns"] == ["nom_service"]


def test_key_files_that_could_be_swapped_or_hang_are_refused(
    env: dict[str, str], files: demo.DemoFiles, tmp_path: Path
) -> None:
    ok = [str(files.outcomes), "--name", "o", *profile(files, "outcomes")]
    fifo = tmp_path / "fifo.key"
    os.mkfifo(fifo, 0o600)
    linked = tmp_path / "linked.key"
    os.link(env["AGORIA_KEY_FILE"], linked)
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o777)
    shared.chmod(0o777)
    open_key = shared / "platform.key"
    create_key_file(open_key)
    for path, message in (
        (fifo, "is not a regular file"),
        (linked, "has other hard links"),
        (open_key, "can be written by others"),
    ):
        done = run(env, "dataset", "ingest", *ok, "--key-file", str(path))
        assert done.returncode == 2, (path, done.stderr)
        assert message in done.stderr


def test_a_grant_recorded_with_a_broken_key_says_so(
    env: dict[str, str], files: demo.DemoFiles, tmp_path: Path
) -> None:
    made = run(
        env, "dataset", "ingest", str(files.outcomes), "--name", "o", *profile(files, "outcomes")
    )
    assert made.returncode == 0, made.stderr
    assert (
        run(env, "project", "create", "broken", "--title", "B", "--legal-basis", "X").returncode
        == 0
    )
    until = (date.today() + timedelta(days=30)).isoformat()
    bad = {**env, "AGORIA_KEY_FILE": str(tmp_path / "missing.key")}
    done = run(bad, "grant", "add", "broken", "o@1", "--reference", "R", "--until", until)
    assert done.returncode == 5, done.stderr
    assert "recorded, but the project's copies cannot be made" in done.stderr
    listed = json.loads(run(env, "grant", "list", "broken", "--json").stdout)
    assert [g["dataset"] for g in listed] == ["o@1"]


def test_demo_data_never_overwrites_and_stays_before_its_extraction_date(
    env: dict[str, str], tmp_path: Path
) -> None:
    out = tmp_path / "x"
    assert run(env, "demo-data", "--patients", "50", "--out", str(out)).returncode == 0
    assert all(p.stat().st_mode & 0o777 == 0o600 for p in out.iterdir())
    again = run(env, "demo-data", "--patients", "50", "--out", str(out))
    assert again.returncode == 2
    assert "never overwritten" in again.stderr
    dates = re.findall(r"\d{4}-\d{2}-\d{2}", (out / "treatments.csv").read_text())
    dates += re.findall(r"\d{4}-\d{2}-\d{2}", (out / "outcomes.csv").read_text())
    assert max(dates) <= demo.EXTRACTED.isoformat()


FORWARDER = r"""
#include <fcntl.h>
#include <unistd.h>
__attribute__((constructor)) static void loaded(void) {
    int fd = open(MARKER, O_WRONLY | O_CREAT, 0600);
    if (fd >= 0) close(fd);
}
"""


def test_no_environment_variable_chooses_the_native_library(
    env: dict[str, str], files: demo.DemoFiles, tmp_path: Path
) -> None:
    """A library named by the environment would see every identifier and the key: the
    pseudonymiser is loaded only from the installed package, whatever the variables say."""
    marker = tmp_path / "loaded"
    source = tmp_path / "forward.c"
    source.write_text(FORWARDER)
    library = tmp_path / "libforward.so"
    subprocess.run(
        ["gcc", "-shared", "-fPIC", f'-DMARKER="{marker}"', "-o", str(library), str(source)],
        check=True,
    )
    planted = {
        name: str(library)
        for name in ("AGORIA_NATIVE_LIB", "AGORIA_NATIVE_LIBRARY", "AGORIA_PSEUDONYM_LIB")
    }
    done = run(
        {**env, **planted},
        "dataset", "ingest", str(files.outcomes), "--name", "o", *profile(files, "outcomes"),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert not marker.exists()
