"""``agoria-tre check`` as a reviewer or researcher runs it: exit statuses and formats."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from agoria_tre.cli.main import main

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((ROOT / "docs" / "disclosure-report.schema.json").read_text())
AGORIA = str(Path(sys.executable).with_name("agoria-tre"))


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    try:
        main(["check", *args])
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture
def outputs(tmp_path: Path) -> Path:
    folder = tmp_path / "outputs"
    folder.mkdir()
    (folder / "safe.csv").write_text("sex,A,B\nF,120,300\nM,90,250\n")
    (folder / "small.csv").write_text("sex,A,B\nF,12,10\nM,90,250\n")
    (folder / "mean.csv").write_text("sex,mean dose\nF,12.5\nM,13.1\n")
    return folder


def test_exit_status_follows_the_worst_item(
    outputs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, str(outputs / "safe.csv"))[0] == 0
    assert run(capsys, str(outputs / "mean.csv"))[0] == 3
    code, out, _ = run(capsys, str(outputs))
    assert code == 1
    assert "FAIL: 1 pass, 1 review, 1 fail" in out
    assert "threshold: 1 cell with fewer than 11 units cells (0,1)" in out


def test_profile_changes_the_verdict(outputs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # 10 fails under fr (threshold 11) and passes under uk (threshold 10).
    assert run(capsys, str(outputs / "small.csv"))[0] == 1
    assert run(capsys, "--profile", "uk", str(outputs / "small.csv"))[0] == 0


def test_operator_policy_file(
    outputs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (ROOT / "src/agoria_tre/disclosure/profiles/fr.yaml").read_text()
    policy = tmp_path / "strict.yaml"
    policy.write_text(
        text.replace("threshold: 11", "threshold: 200").replace("name: fr", "name: strict")
    )
    code, out, _ = run(capsys, "--policy", str(policy), str(outputs / "safe.csv"))
    assert code == 1
    assert "fewer than 200 units" in out
    bad = tmp_path / "bad.yaml"
    bad.write_text(text + "extra_rule: 1\n")
    code, _, err = run(capsys, "--policy", str(bad), str(outputs / "safe.csv"))
    assert (code, err.count("\n")) == (2, 1)
    assert "unknown key(s) extra_rule" in err


def test_json_report_validates_against_the_schema(
    outputs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "--format", "json", str(outputs))
    document = json.loads(out)
    jsonschema.validate(document, SCHEMA)
    assert (code, document["status"], document["policy"]["threshold"]) == (1, "fail", 11)


@pytest.mark.parametrize("kind", ["text", "parquet"])
def test_pseudonyms_file(tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str) -> None:
    pseudonyms = ["K7QWERTYUIOPASDFGHJKLZXCVB", "A1QWERTYUIOPASDFGHJKLZXCVB"]
    if kind == "text":
        source = tmp_path / "pseudonyms.txt"
        source.write_text("\n".join(pseudonyms) + "\n")
        options = ["--pseudonyms", str(source)]
    else:
        source = tmp_path / "patients.parquet"
        pq.write_table(pa.table({"patient_pseudonym": pseudonyms}), source)
        options = ["--pseudonyms", str(source), "--pseudonym-column", "patient_pseudonym"]
    leak = tmp_path / "listing.txt"
    leak.write_text("first rows:\nA1QWERTYUIOPASDFGHJKLZXCVB 54 F\n")
    code, out, _ = run(capsys, *options, str(leak))
    assert code == 1
    assert "identifier.pseudonym" in out
    assert "A1QWERTYUIOPASDFGHJKLZXCVB" not in out


def test_parquet_pseudonyms_need_a_column(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "patients.parquet"
    pq.write_table(pa.table({"p": ["x"]}), source)
    code, _, err = run(capsys, "--pseudonyms", str(source), str(source))
    assert code == 2
    assert "needs --pseudonym-column" in err


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert run(capsys, str(tmp_path / "missing.csv"))[0] == 2
    assert run(capsys)[0] == 2
    assert run(capsys, "--profile", "de", str(tmp_path))[0] == 2


def test_the_installed_command(outputs: Path) -> None:
    done = subprocess.run(
        [AGORIA, "check", str(outputs / "mean.csv")], capture_output=True, text=True, check=False
    )
    assert done.returncode == 3
    assert "REVIEW" in done.stdout


def test_differencing_against_released_outputs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    released = tmp_path / "released"
    released.mkdir()
    (released / "by_sex.csv").write_text("sex,All\nF,146\nM,130\n")
    new = tmp_path / "new"
    new.mkdir()
    (new / "by_sex_drug.csv").write_text("sex,A,B,All\nF,95,50,145\nM,80,50,130\n")
    code, out, _ = run(capsys, str(new))
    assert code == 0, out
    code, out, _ = run(capsys, "--released", str(released), str(new))
    assert code == 3
    assert "differencing:" in out
    assert "released:released/by_sex.csv" in out
    assert "fewer than 11" in out


def test_an_empty_folder_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, str(tmp_path))
    assert code == 2
    assert "nothing to check" in err


def test_released_tables_that_cannot_be_compared_are_noted_in_the_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    released = tmp_path / "released"
    released.mkdir()
    (released / "broken.csv").write_text('a,b\n1,"2\n')
    new = tmp_path / "t.csv"
    new.write_text("sex,n\nF,120\nM,130\n")
    code, out, _ = run(capsys, "--format", "json", "--released", str(released), str(new))
    document = json.loads(out)
    jsonschema.validate(document, SCHEMA)
    assert code == 0
    assert len(document["notes"]) == 1
    assert document["notes"][0].startswith("released:released/broken.csv not compared:")


def test_a_pseudonyms_file_with_a_byte_order_mark(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "pseudonyms.txt"
    source.write_bytes(b"\xef\xbb\xbfFIRST01AAAA\nSECOND02BBBB\n")
    leak = tmp_path / "out.txt"
    leak.write_text("outlier: FIRST01AAAA\n")
    code, out, _ = run(capsys, "--pseudonyms", str(source), str(leak))
    assert code == 1
    assert "identifier.pseudonym" in out
