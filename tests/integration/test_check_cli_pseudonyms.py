"""``agoria-tre check --pseudonyms``: the pseudonym check is never switched off silently."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from agoria_tre.cli.check import load_pseudonyms
from agoria_tre.errors import InvalidInput
from tests.integration.test_check_cli import run

PSEUDONYM = "P7K2Q9X"


@pytest.fixture
def leak(tmp_path: Path) -> Path:
    path = tmp_path / "listing.txt"
    path.write_text(f"outlier: {PSEUDONYM} aged 54\n")
    return path


@pytest.mark.parametrize(
    ("name", "content", "column"),
    [
        ("cohort.csv", f"pid,age\n{PSEUDONYM},54\nA1B2C3D,61\n", "pid"),
        ("cohort.csv", f"age;pid\n54;{PSEUDONYM}\n61;A1B2C3D\n", "pid"),
        ("cohort.tsv", f"pid\tage\n{PSEUDONYM}\t54\n", "pid"),
        ("cohort.txt", f"age,pid\n54,{PSEUDONYM}\n", "pid"),
        ("cohort.csv", f'"pid","age"\n"{PSEUDONYM}","54"\n', "pid"),
        ("pids.txt", f"pid\n{PSEUDONYM}\nA1B2C3D\n", "pid"),
    ],
)
def test_a_column_of_a_csv_file(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    leak: Path,
    name: str,
    content: str,
    column: str,
) -> None:
    source = tmp_path / name
    source.write_text(content)
    code, out, _ = run(capsys, "--pseudonyms", str(source), "--pseudonym-column", column, str(leak))
    assert code == 1
    assert "identifier.pseudonym" in out
    assert PSEUDONYM not in out
    assert load_pseudonyms(source, column) == {PSEUDONYM} | (
        {"A1B2C3D"} if "A1B2C3D" in content else set()
    )


def test_a_multi_column_file_without_a_column_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], leak: Path
) -> None:
    source = tmp_path / "cohort.csv"
    source.write_text(f"pid,age\n{PSEUDONYM},54\n")
    code, out, err = run(capsys, "--pseudonyms", str(source), str(leak))
    assert code == 2
    assert "several columns" in err
    assert "--pseudonym-column" in err
    assert out == ""
    ragged = tmp_path / "list.txt"
    ragged.write_text(f"{PSEUDONYM}\nA1B2C3D,61\n")
    code, _, err = run(capsys, "--pseudonyms", str(ragged), str(leak))
    assert code == 2
    assert "line 2" in err


@pytest.mark.parametrize("name", ["cohort.csv", "cohort.parquet", "pids.txt"])
def test_a_column_that_does_not_exist_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], leak: Path, name: str
) -> None:
    source = tmp_path / name
    if name.endswith(".parquet"):
        pq.write_table(pa.table({"pid": [PSEUDONYM], "age": [54]}), source)
    elif name.endswith(".csv"):
        source.write_text(f"pid,age\n{PSEUDONYM},54\n")
    else:
        source.write_text(f"pid\n{PSEUDONYM}\n")
    code, _, err = run(
        capsys, "--pseudonyms", str(source), "--pseudonym-column", "pseudo", str(leak)
    )
    assert code == 2
    assert "'pseudo'" in err


def test_a_parquet_column_is_read_and_a_missing_one_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], leak: Path
) -> None:
    source = tmp_path / "cohort.parquet"
    pq.write_table(pa.table({"pid": [PSEUDONYM, None], "age": [54, 61]}), source)
    code, out, _ = run(capsys, "--pseudonyms", str(source), "--pseudonym-column", "pid", str(leak))
    assert (code, "identifier.pseudonym" in out) == (1, True)
    code, _, err = run(capsys, "--pseudonyms", str(source), str(leak))
    assert code == 2
    assert "needs --pseudonym-column" in err
    assert "pid, age" in err


@pytest.mark.parametrize(
    ("name", "content"),
    [("empty.txt", ""), ("blank.txt", "\n  \n"), ("header.csv", "pid,age\n")],
)
def test_an_empty_pseudonym_list_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], leak: Path, name: str, content: str
) -> None:
    source = tmp_path / name
    source.write_text(content)
    args = ["--pseudonym-column", "pid"] if name.endswith(".csv") else []
    code, _, err = run(capsys, "--pseudonyms", str(source), *args, str(leak))
    assert code == 2
    assert "no pseudonym" in err
    empty = tmp_path / "empty.parquet"
    pq.write_table(pa.table({"pid": pa.array([], pa.string())}), empty)
    code, _, err = run(capsys, "--pseudonyms", str(empty), "--pseudonym-column", "pid", str(leak))
    assert code == 2
    assert "no pseudonym" in err


def test_a_column_without_a_pseudonyms_file_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], leak: Path
) -> None:
    code, _, err = run(capsys, "--pseudonym-column", "pid", str(leak))
    assert code == 2
    assert "--pseudonyms" in err


def test_one_value_per_line_still_works_and_a_single_column_header_is_not_a_pseudonym(
    tmp_path: Path,
) -> None:
    plain = tmp_path / "pids.txt"
    plain.write_text(f"{PSEUDONYM}\nA1B2C3D\n")
    assert load_pseudonyms(plain, None) == {PSEUDONYM, "A1B2C3D"}
    single = tmp_path / "pids.csv"
    single.write_text(f"pid\n{PSEUDONYM}\nA1B2C3D\n")
    assert load_pseudonyms(single, None) == {PSEUDONYM, "A1B2C3D"}
    with pytest.raises(InvalidInput):
        load_pseudonyms(tmp_path / "missing.txt", None)


def test_innocent_output_passes_with_a_csv_of_pseudonyms(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "cohort.csv"
    source.write_text(f"pid,age\n{PSEUDONYM},54\n")
    clean = tmp_path / "clean.csv"
    clean.write_text("sex,n\nF,120\nM,300\n")
    code, _, _ = run(capsys, "--pseudonyms", str(source), "--pseudonym-column", "pid", str(clean))
    assert code == 0
