"""Ingest lets no identifier in: every column declared, names held to their declaration,
every kept value screened, wherever it sits in the extract; a refusal names file, line and
column, never the value, and leaves nothing written."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from agoria_tre.catalog.db import Catalog
from agoria_tre.errors import InvalidInput
from agoria_tre.ingest import pipeline, sources
from agoria_tre.ingest.keys import Key, create_key_file
from agoria_tre.ingest.pipeline import IngestOptions, ingest
from agoria_tre.testing.platform import operator_env
from tests.support import snapshot

BODY = "1850575123456"
NIR = f"{BODY}{97 - int(BODY) % 97:02d}"  # sex, year, month, place, order, then the key
IDENTIFIERS = {
    "a social security number (NIR)": f"rappel du NIR {NIR}",
    "a phone number": "famille joignable au 06 12 34 56 78",
    "an e-mail address": "résultats envoyés à jean.dupont@chu-lyon.fr",
}
ODD_NAMES = ["nda", "ipp_mere", "num_dossier", "nomPatient", "date_deces"]
HEADER = ["ipp", *ODD_NAMES, "commentaire", "grade"]
ROWS = 3000
BAD_ROW = 2500  # 0-based: the 2,501st record, on line 2,502 under the header


@pytest.fixture
def key(tmp_path: Path) -> Key:
    return create_key_file(tmp_path / "keys" / "platform.key")


def extract(path: Path, planted: str | None = None, *, at: int = BAD_ROW) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for i in range(ROWS):
            note = planted if planted is not None and i == at else f"suivi {i % 4}"
            writer.writerow([
                f"P{i:06d}", f"{900000 + i}", f"M{i:06d}", f"D{i}", f"Nom{i % 50}",
                f"2025-0{1 + i % 9}-1{i % 10}", note, str(i % 5),
            ])  # fmt: skip
    return path


def home_files(catalog: Catalog) -> list[str]:
    home = catalog.settings.home
    return sorted(
        str(p.relative_to(home))
        for p in home.rglob("*")
        if p.is_file() and not p.name.startswith("catalog.sqlite") and "audit" not in p.parts
    )


def refused(catalog: Catalog, source: Path, options: IngestOptions, key: Key) -> str:
    """The refusal's message, after checking that nothing was written."""
    before = (snapshot(catalog), home_files(catalog))
    with pytest.raises(InvalidInput) as caught:
        ingest(catalog, source, options, key=key, actor="dm")
    assert (snapshot(catalog), home_files(catalog)) == before
    return str(caught.value)


def options(name: str = "sejours", **roles: tuple[str, ...]) -> IngestOptions:
    """Odd columns dropped, the comment as free text, unless said otherwise."""
    given: dict[str, tuple[str, ...]] = {
        "id_columns": ("ipp",),
        "drop": tuple(ODD_NAMES),
        "free_text": ("commentaire",),
        "attributes": ("grade",),
    }
    return IngestOptions(name=name, **(given | roles))  # type: ignore[arg-type]


@pytest.mark.parametrize("what", IDENTIFIERS)
@pytest.mark.parametrize("role", ["free_text", "attributes", "quasi"])
def test_an_identifier_deep_in_a_kept_column_refuses_the_ingest(
    catalog: Catalog, key: Key, tmp_path: Path, what: str, role: str
) -> None:
    source = extract(tmp_path / "sejours.csv", IDENTIFIERS[what])
    roles: dict[str, tuple[str, ...]] = {"free_text": (), role: ("commentaire",)}
    if role == "attributes":
        roles["attributes"] = ("grade", "commentaire")
    declared = options("sejours", **roles)
    message = refused(catalog, source, declared, key)
    assert message.startswith(
        f"sejours.csv, line {BAD_ROW + 2}, column 'commentaire': holds {what}"
    )
    assert IDENTIFIERS[what] not in message
    for part in ("06 12", "@", BODY):
        assert part not in message


def small_chunks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Read in 16 KB blocks gathered into chunks of 500 rows; returns the rows seen after each
    chunk, as the progress display gets them."""
    monkeypatch.setattr(sources, "BLOCK_SIZE", 16 << 10)
    monkeypatch.setattr(pipeline, "CHUNK_ROWS", 500)
    return []


def test_every_chunk_is_screened_and_the_line_counts_rows_before_it(
    catalog: Catalog, key: Key, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = small_chunks(monkeypatch)
    clean = extract(tmp_path / "clean.csv")
    ingest(catalog, clean, options(), key=key, actor="dm", progress=lambda p: seen.append(p.rows))
    assert len(seen) > 3  # several chunks, each screened
    source = extract(tmp_path / "sejours.csv", IDENTIFIERS["a phone number"])
    message = refused(catalog, source, options(name="sejours2"), key)
    assert message.startswith(f"sejours.csv, line {BAD_ROW + 2}, column 'commentaire'")


def test_a_later_chunk_cannot_turn_a_phone_number_into_a_number(
    catalog: Catalog, key: Key, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first chunk makes a column whole numbers; a later ``0612345678`` would be read as
    612345678 by a cast, its leading zero (and what it is) lost: it is refused instead."""
    small_chunks(monkeypatch)
    rows = [f"P{i},{i}" for i in range(3000)]
    rows[2500] = "P2500,0612345678"
    source = tmp_path / "n.csv"
    source.write_text("ipp,valeur\n" + "\n".join(rows) + "\n")
    declared = IngestOptions(name="n", id_columns=("ipp",), attributes=("valeur",))
    message = refused(catalog, source, declared, key)
    assert message.startswith(
        "n.csv, line 2502, column 'valeur': the value is not a whole number like the first rows"
    )


def test_a_parquet_source_is_screened_and_names_the_row(
    catalog: Catalog, key: Key, tmp_path: Path
) -> None:
    notes = [f"suivi {i}" for i in range(ROWS)]
    notes[BAD_ROW] = IDENTIFIERS["an e-mail address"]
    source = tmp_path / "notes.parquet"
    pq.write_table(pa.table({"ipp": [f"P{i}" for i in range(ROWS)], "note": notes}), source)
    declared = IngestOptions(name="notes", id_columns=("ipp",), free_text=("note",))
    message = refused(catalog, source, declared, key)
    assert message.startswith(f"notes.parquet, row {BAD_ROW + 1}, column 'note': holds an e-mail")


def test_parquet_text_stored_as_binary_is_screened_and_nested_values_refused(
    catalog: Catalog, key: Key, tmp_path: Path
) -> None:
    source = tmp_path / "hive.parquet"
    notes = pa.array([b"suivi", IDENTIFIERS["an e-mail address"].encode()], pa.binary())
    pq.write_table(pa.table({"ipp": ["P1", "P2"], "note": notes}), source)
    declared = IngestOptions(name="hive", id_columns=("ipp",), free_text=("note",))
    assert refused(catalog, source, declared, key).startswith(
        "hive.parquet, row 2, column 'note': holds an e-mail address"
    )
    nested = tmp_path / "nested.parquet"
    pq.write_table(pa.table({"ipp": ["P1"], "codes": [["I21", "E11"]]}), nested)
    declared = IngestOptions(name="nested", id_columns=("ipp",), attributes=("codes",))
    assert refused(catalog, nested, declared, key) == (
        "nested.parquet, column 'codes': list<element: string> values cannot be screened for"
        " identifiers: --drop it"
    )


def test_a_nir_stored_as_a_number_is_found(catalog: Catalog, key: Key, tmp_path: Path) -> None:
    source = tmp_path / "n.csv"
    source.write_text("ipp,valeur\n" + "".join(f"P{i},{i}\n" for i in range(50)) + f"X,{NIR}\n")
    declared = IngestOptions(name="n", id_columns=("ipp",), attributes=("valeur",))
    message = refused(catalog, source, declared, key)
    assert message.startswith("n.csv, line 52, column 'valeur': holds a social security number")


@pytest.mark.parametrize("column", ODD_NAMES)
def test_identifying_names_in_any_spelling_refuse_a_column_kept_in_clear(
    catalog: Catalog, key: Key, tmp_path: Path, column: str
) -> None:
    source = extract(tmp_path / "sejours.csv")
    others = tuple(c for c in ODD_NAMES if c != column)
    message = refused(catalog, source, options(drop=others, attributes=("grade", column)), key)
    assert f"column {column!r}: its name says it holds" in message
    assert "and it is declared attribute" in message


def test_a_column_without_a_role_refuses_the_ingest(
    catalog: Catalog, key: Key, tmp_path: Path
) -> None:
    source = extract(tmp_path / "sejours.csv")
    message = refused(catalog, source, options(attributes=()), key)
    assert message.startswith("sejours.csv: 1 column(s) without a role: 'grade'.")


def test_prose_must_be_declared_free_text(catalog: Catalog, key: Key, tmp_path: Path) -> None:
    sentence = "le patient signale une gêne respiratoire depuis la dernière cure"
    source = extract(tmp_path / "sejours.csv", sentence, at=10)
    as_attribute = options(free_text=(), attributes=("grade", "commentaire"))
    message = refused(catalog, source, as_attribute, key)
    assert message.startswith(
        "sejours.csv, line 12, column 'commentaire': free text (a value of 8 words or more):"
        " declare it --free-text"
    )
    assert sentence not in message
    result = ingest(catalog, source, options(), key=key, actor="dm")
    roles = {c["name"]: c["role"] for c in result.manifest["columns"]}
    assert roles == {"ipp": "pseudonym", "commentaire": "free text", "grade": "attribute"}
    assert result.manifest["options"]["roles"]["nda"] == "drop"


def test_birth_dates_are_counted_as_quasi_identifiers(
    catalog: Catalog, key: Key, tmp_path: Path
) -> None:
    source = tmp_path / "p.csv"
    source.write_text("ipp,naissance,sexe\n" + "".join(
        f"P{i},19{50 + i % 3}-01-02,{'FM'[i % 2]}\n" for i in range(60)
    ))  # fmt: skip
    declared = IngestOptions(
        name="p", id_columns=("ipp",), date_of_birth=("naissance",), quasi=("sexe",)
    )
    report = ingest(catalog, source, declared, key=key, actor="dm").manifest["k_anonymity"]
    assert report["quasi_identifiers"] == ["naissance", "sexe"]
    assert report["classes"] == 6


def write_profile(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sejours.toml"
    path.write_text(text)
    return path


PROFILE = """\
dataset = "sejours"
birth_precision = "year"

[columns]
ipp = "id"
nda = "drop"
ipp_mere = "drop"
num_dossier = "drop"
nomPatient = "drop"
date_deces = { role = "quasi", text = true }
commentaire = "free_text"
grade = "attribute"
"""


def test_an_ingest_profile_declares_the_source(catalog: Catalog, key: Key, tmp_path: Path) -> None:
    source = extract(tmp_path / "sejours.csv")
    profile = write_profile(tmp_path, PROFILE)
    result = ingest(
        catalog, source, IngestOptions(name="sejours", profile=profile), key=key, actor="dm"
    )
    recorded = result.manifest["options"]
    assert recorded["profile"]["file"] == "sejours.toml"
    assert len(recorded["profile"]["sha256"]) == 64
    assert recorded["id_columns"] == ["ipp"]
    assert recorded["text_columns"] == ["date_deces"]
    roles = {c["name"]: c["role"] for c in result.manifest["columns"]}
    assert roles["date_deces"] == "quasi-identifier"
    assert result.manifest["k_anonymity"]["quasi_identifiers"] == ["date_deces"]


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"name": "autre"},
         "the ingest profile sejours.toml is for dataset 'sejours', not 'autre'"),
        ({"birth_precision": "month"}, "birth-precision 'month' differs from 'year' in the"),
        ({"attributes": ("commentaire",)}, "column 'commentaire' has two roles: free_text"
         " (profile sejours.toml) and attribute (--attribute)"),
    ],
)  # fmt: skip
def test_a_profile_and_options_that_disagree_are_refused(
    catalog: Catalog, key: Key, tmp_path: Path, given: dict[str, object], message: str
) -> None:
    source = extract(tmp_path / "sejours.csv")
    profile = write_profile(tmp_path, PROFILE)
    declared = IngestOptions(**({"name": "sejours", "profile": profile} | given))  # type: ignore[arg-type]
    assert message in refused(catalog, source, declared, key)


def test_a_profile_with_encoding_and_delimiter(catalog: Catalog, key: Key, tmp_path: Path) -> None:
    source = tmp_path / "w.csv"
    source.write_bytes("ipp|note\n1|cœur\n".encode("cp1252"))
    profile = write_profile(
        tmp_path,
        'encoding = "cp1252"\ndelimiter = "|"\n[columns]\nipp = "id"\nnote = "attribute"\n',
    )
    result = ingest(catalog, source, IngestOptions(name="w", profile=profile), key=key, actor="d")
    assert result.manifest["sources"][0]["delimiter"] == "|"
    table = pq.read_table(result.path / "data.parquet")
    assert table.column("note").to_pylist() == ["cœur"]


def test_the_command_line_takes_a_profile(tmp_path: Path) -> None:
    """``dataset ingest --profile`` from the command line, as the demo runs it."""
    agoria = str(Path(sys.executable).with_name("agoria-tre"))
    create_key_file(tmp_path / "keys" / "platform.key")
    env = operator_env({
        "AGORIA_HOME": str(tmp_path / "home"),
        "AGORIA_KEY_FILE": str(tmp_path / "keys" / "platform.key"),
    })  # fmt: skip

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [agoria, *args], env=env, capture_output=True, text=True, check=False, timeout=120
        )

    assert run("init").returncode == 0
    source = extract(tmp_path / "sejours.csv")
    profile = write_profile(tmp_path, PROFILE)
    done = run("dataset", "ingest", str(source), "--name", "sejours", "--profile", str(profile),
               "--json")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["manifest"]["options"]["profile"]["file"] == "sejours.toml"
    planted = extract(tmp_path / "planted.csv", IDENTIFIERS["a phone number"])
    again = run("dataset", "ingest", str(planted), "--name", "sejours", "--profile", str(profile))
    assert again.returncode == 2
    assert again.stderr.strip() == (
        f"agoria-tre: error: planted.csv, line {BAD_ROW + 2}, column 'commentaire': holds a phone"
        " number (free_text columns are kept): remove it at the source, or --drop the column"
    )


def test_the_line_named_counts_the_bad_rows_skipped_before_it(
    catalog: Catalog, key: Key, tmp_path: Path
) -> None:
    rows = [f"P{i},note {i}" for i in range(100)]
    rows[10] = "P10,note,EXTRA"  # skipped: line 12
    rows[50] = "P50,appeler le 06 12 34 56 78"  # line 52
    source = tmp_path / "b.csv"
    source.write_text("ipp,note\n" + "\n".join(rows) + "\n")
    declared = IngestOptions(name="b", id_columns=("ipp",), free_text=("note",), skip_bad_rows=1)
    assert refused(catalog, source, declared, key).startswith("b.csv, line 52, column 'note'")


def test_parts_whose_types_differ_are_refused_without_their_values(
    catalog: Catalog, key: Key, tmp_path: Path
) -> None:
    folder = tmp_path / "parts"
    folder.mkdir()
    pq.write_table(pa.table({"ipp": ["P1"], "n": pa.array([1], pa.int64())}), folder / "a.parquet")
    pq.write_table(pa.table({"ipp": ["P2"], "n": ["douze"]}), folder / "b.parquet")
    declared = IngestOptions(name="parts", id_columns=("ipp",), attributes=("n",))
    message = refused(catalog, folder, declared, key)
    assert message == (
        "b.parquet: a value of column(s) 'n' (int64) does not convert to the type that"
        " a.parquet's first rows gave it; nothing was registered"
    )
