"""Column roles: what a name says (any case style, French hospital words), the declaration
every column needs, ingest profiles, and the screen over every value."""

from __future__ import annotations

import random
from pathlib import Path

import pyarrow as pa
import pytest

from agoria_tre.disclosure.rules import identifiers
from agoria_tre.errors import InvalidInput
from agoria_tre.ingest import columns
from agoria_tre.ingest.columns import (
    BIRTH,
    PERSON,
    PROSE,
    QUASI,
    RECORD,
    Role,
    declare,
    first_finding,
    load_profile,
    name_kind,
    name_words,
)


def nir(body: str) -> str:
    number = int(body.upper().replace("2A", "19").replace("2B", "18"))
    return f"{body}{97 - number % 97:02d}"


NIR = nir("1850575123456")

# --- names ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("nomPatient", ["nom", "patient"]),
        ("IPPMere", ["ipp", "mere"]),
        ("ipp_mere", ["ipp", "mere"]),
        ("NUMDOSSIER", ["num", "dossier"]),
        ("date.décès", ["date", "deces"]),
        ("Date-De-Naissance", ["date", "de", "naissance"]),
        ("N°_dossier", ["n", "dossier"]),
        ("adresse2", ["adresse", "2"]),
        ("datedeces", ["date", "deces"]),
        ("FIRSTNAMEPATIENT", ["firstname", "patient"]),  # the fewest words
        ("nombre_sejours", ["nombre", "sejours"]),  # "nombre" is not "nom" + "bre"
        ("télé phone", ["tele", "phone"]),
        ("", []),
        ("__", []),
    ],
)
def test_names_are_cut_into_words_in_any_case_style(name: str, words: list[str]) -> None:
    assert name_words(name) == words


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("nda", RECORD),
        ("ipp_mere", RECORD),
        ("num_dossier", RECORD),
        ("NumeroDossier", RECORD),
        ("INS", RECORD),
        ("nomPatient", PERSON),
        ("NOM_NAISSANCE", PERSON),
        ("prénom", PERSON),
        ("PatientName", PERSON),
        ("Téléphone.Portable", PERSON),
        ("e-mail", PERSON),
        ("courriel_contact", PERSON),
        ("numero_securite_sociale", PERSON),
        ("NIR", PERSON),
        ("adresse_domicile", PERSON),
        ("date_deces", QUASI),
        ("DATE_DC", QUASI),
        ("dateDeces", QUASI),
        ("code_postal", QUASI),
        ("CP", QUASI),
        ("commune_residence", QUASI),
        ("date_naissance", BIRTH),
        ("DDN", BIRTH),
        ("birthDate", BIRTH),
        ("dob", BIRTH),
        # The strictest kind wins: a mother's name is a name before it is a record.
        ("nom_ipp", PERSON),
        ("nombre_sejours", None),
        ("connaissance", None),
        ("deces", None),
        ("grade", None),
        ("telecom", None),
        ("type_dossier", None),
    ],
)
def test_a_name_says_what_it_holds(name: str, kind: columns.NameKind | None) -> None:
    assert name_kind(name) is kind


# --- declarations -----------------------------------------------------------------------------

HEADER = ["ipp", "nom", "date_naissance", "sexe", "note"]


def test_every_column_gets_exactly_one_role() -> None:
    declared = declare(
        HEADER,
        {
            Role.ID: ["ipp"],
            Role.DROP: ["nom"],
            Role.BIRTH_DATE: ["date_naissance"],
            Role.QUASI: ["sexe"],
            Role.FREE_TEXT: ["note"],
        },
        text=["sexe"],
        source="x.csv",
    )
    assert list(declared.roles.values()) == [
        Role.ID, Role.DROP, Role.BIRTH_DATE, Role.QUASI, Role.FREE_TEXT
    ]  # fmt: skip
    assert declared.having(Role.QUASI, Role.FREE_TEXT) == ("sexe", "note")
    assert declared.text == {"sexe"}
    assert declared.origin["ipp"] == "--id-column"


def test_columns_without_a_role_are_named_and_counted() -> None:
    wide = [f"c{i}" for i in range(12)]
    with pytest.raises(InvalidInput) as refused:
        declare(wide, {Role.ID: ["c0"]}, source="w.csv")
    assert str(refused.value).startswith(
        "w.csv: 11 column(s) without a role: 'c1', 'c2', 'c3', 'c4', 'c5', 'c6', 'c7', 'c8'"
        " and 3 more. Declare each one"
    )


@pytest.mark.parametrize(
    ("options", "extra", "message"),
    [
        ({Role.ID: ["ipx"]}, {}, "x.csv, line 1: no column 'ipx' for --id-column (the header"),
        ({Role.ID: ["ipp"]}, {"text": ["zz"]}, "no column 'zz' for --text-column"),
        ({Role.ID: ["ipp"]}, {"checked": ["zz"]}, "no column 'zz' for --keep-column"),
        (
            {Role.ID: ["ipp"], Role.ATTRIBUTE: ["ipp"]},
            {},
            "column 'ipp' has two roles: id (--id-column) and attribute (--attribute)",
        ),
        (
            {Role.ID: ["ipp"], Role.DROP: ["nom"], Role.ATTRIBUTE: HEADER[2:]},
            {"text": ["nom"]},
            "column 'nom': --text-column applies to kept columns (quasi, attribute, free_text),"
            " not to a column with role drop",
        ),
    ],
)
def test_declarations_that_cannot_hold_are_refused(
    options: dict[Role, list[str]], extra: dict[str, list[str]], message: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        declare(HEADER, options, source="x.csv", **extra)  # type: ignore[arg-type]
    assert message in str(refused.value)


def test_a_declaration_is_held_to_what_the_names_say() -> None:
    declared = declare(
        ["ipp", "telephone"], {Role.ID: ["ipp"], Role.ATTRIBUTE: ["telephone"]}, source="s"
    )
    with pytest.raises(InvalidInput, match="column 'telephone': its name says it holds a"):
        columns.check_names(declared, "s")
    checked = declare(
        ["ipp", "telephone"],
        {Role.ID: ["ipp"], Role.ATTRIBUTE: ["telephone"]},
        checked=["telephone"],
        source="s",
    )
    columns.check_names(checked, "s")  # a person checked it: no refusal


# --- profiles ---------------------------------------------------------------------------------


def write(tmp_path: Path, text: str | bytes) -> Path:
    path = tmp_path / "source.toml"
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


def test_a_profile_declares_roles_text_and_checked_columns(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        'dataset = "sejours"\nbirth_precision = "month"\n\n[columns]\nipp = "id"\n'
        'nom_service = { role = "attribute", checked = true }\n'
        'code = { role = "quasi", text = true }\n',
    )
    profile = load_profile(path)
    assert profile.roles == {"ipp": Role.ID, "nom_service": Role.ATTRIBUTE, "code": Role.QUASI}
    assert profile.checked == {"nom_service"}
    assert profile.text == {"code"}
    assert profile.options == {"dataset": "sejours", "birth_precision": "month"}
    assert len(profile.sha256) == 64
    declared = declare(["ipp", "nom_service", "code"], {}, profile=profile, source="s.csv")
    assert declared.origin["ipp"] == "profile source.toml"
    columns.check_names(declared, "s.csv")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (b"\xff\xfe", "not valid TOML"),
        ("[columns\n", "not valid TOML"),
        ("owner = 'me'\n[columns]\na = 'id'\n", "unknown setting 'owner'"),
        ("encoding = 8\n[columns]\na = 'id'\n", "encoding is a string"),
        ("dataset = 'x'\n", "no [columns] table"),
        ("[columns]\n", "no [columns] table"),
        ("[columns]\na = 3\n", "column 'a': a role, or a table of role, text and checked"),
        ("[columns]\na = { role = 'id', why = 'x' }\n", "a role, or a table of role, text"),
        ("[columns]\na = 'identifier'\n", "role 'identifier' is none of id, drop,"),
        ("[columns]\na = { text = true }\n", "role None is none of"),
        ("[columns]\na = { role = 'quasi', text = 'yes' }\n", "text is true or false"),
    ],
)
def test_a_profile_that_cannot_be_read_is_refused(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        load_profile(write(tmp_path, text))
    assert message in str(refused.value)


def test_a_missing_profile_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="No such file"):
        load_profile(tmp_path / "absent.toml")


# --- values -----------------------------------------------------------------------------------


def clean(n: int) -> list[str | None]:
    return [f"grade {i % 5}" if i % 7 else None for i in range(n)]


@pytest.mark.parametrize(
    ("value", "what"),
    [
        (f"rappel: NIR {NIR}", columns.WHAT[identifiers.NIR]),
        ("écrire à jean.dupont@chu-lyon.fr", columns.WHAT[identifiers.EMAIL]),
        ("appeler le 06 12 34 56 78", columns.WHAT[identifiers.PHONE]),
        ("+33 (0)6 12 34 56 78", columns.WHAT[identifiers.PHONE]),
        (f"NIR {nir('285052A123456')}", columns.WHAT[identifiers.NIR]),
    ],
)
def test_an_identifier_anywhere_in_a_column_is_found_at_its_row(value: str, what: str) -> None:
    values = clean(3000)
    values[2500] = value
    values[2900] = value
    found = first_finding(pa.chunked_array([values[:1000], values[1000:]]), column="c", prose=True)
    assert found == columns.Finding(2500, what)


@pytest.mark.parametrize("what", ["phone", "prose"])
def test_a_column_of_distinct_values_is_screened_value_by_value(what: str) -> None:
    """Notes are mostly distinct: screened whole rather than through their distinct values,
    with the same answer."""
    values: list[str | None] = [f"note {i}: lot 123456789" for i in range(3000)]
    values[5] = values[6] = "lot 987654321"  # a near miss, twice: checked once
    values[2500] = (
        "appeler le 06 12 34 56 78"
        if what == "phone"
        else "le patient a été revu en consultation de suivi ce matin"
    )
    found = first_finding(pa.array(values), column="c", prose=True)
    assert found == columns.Finding(2500, PROSE if what == "prose" else columns.WHAT[
        identifiers.PHONE
    ])  # fmt: skip


def test_a_clean_column_passes_and_near_misses_are_not_identifiers() -> None:
    near = [
        "lot 123456789",  # nine digits, no phone, no NIR key
        "1850575123456 00",  # a NIR's form with a wrong key
        "X@beta.values",  # matrix code, not an address
        "06 12 34 56 78 90",  # a run of groups, not a phone
        "0612345678.5",
    ]
    assert first_finding(pa.array(clean(50) + near), column="c", prose=True) is None
    assert first_finding(pa.array([], pa.string()), column="c", prose=True) is None
    assert first_finding(pa.array(["F", "M", None]), column="c", prose=True) is None


def test_a_key_less_nir_counts_where_the_column_name_names_one() -> None:
    body = ["ref 1850575123456"]
    assert first_finding(pa.array(body), column="reference", prose=False) is None
    found = first_finding(pa.array(body), column="numNss", prose=False)
    assert found == columns.Finding(0, columns.WHAT[identifiers.NIR])


def test_prose_is_found_unless_the_column_is_free_text() -> None:
    sentence = "le patient a été revu en consultation de suivi ce matin"
    values = pa.array(["ok", None, sentence, "fine"])
    assert first_finding(values, column="c", prose=True) == columns.Finding(2, PROSE)
    assert first_finding(values, column="c", prose=False) is None
    glued = pa.array(["ok", sentence.replace(" ", "\u00a0")])  # no-break spaces are spaces
    assert first_finding(glued, column="c", prose=True) == columns.Finding(1, PROSE)
    # An identifier before the prose is what is reported; prose before it, the prose.
    mixed = pa.array(["appeler le 06 12 34 56 78", sentence])
    assert first_finding(mixed, column="c", prose=True) == columns.Finding(
        0, columns.WHAT[identifiers.PHONE]
    )
    later = pa.array([sentence, "appeler le 06 12 34 56 78"])
    assert first_finding(later, column="c", prose=True) == columns.Finding(0, PROSE)


def test_large_strings_and_sliced_arrays_are_screened() -> None:
    values = pa.array([*clean(20), f"nir {NIR}"], pa.large_string())
    assert first_finding(values, column="c", prose=True) == columns.Finding(
        20, columns.WHAT[identifiers.NIR]
    )
    sliced = pa.array(["06 12 34 56 78", *clean(10)]).slice(1)
    assert first_finding(sliced, column="c", prose=True) is None


def test_numbers_are_screened_as_nirs() -> None:
    ints = pa.array([12, None, int(NIR), 7], pa.int64())
    assert first_finding(ints, column="c", prose=True) == columns.Finding(
        2, columns.WHAT["identifier.nir"]
    )
    floats = pa.array([1.5, float(NIR), None])
    assert first_finding(floats, column="c", prose=True) == columns.Finding(
        1, columns.WHAT[identifiers.NIR]
    )
    assert first_finding(pa.array([float(NIR) + 0.5]), column="c", prose=True) is None
    keyless = pa.array([1850575123456], pa.int64())
    assert first_finding(keyless, column="c", prose=True) is None
    assert first_finding(keyless, column="nir_mere", prose=True) == columns.Finding(
        0, columns.WHAT[identifiers.NIR]
    )
    assert first_finding(pa.array([True, False]), column="c", prose=True) is None
    assert first_finding(pa.array([None, None], pa.int64()), column="c", prose=True) is None


def test_phone_numbers_written_as_numbers_with_their_country_code_are_found() -> None:
    found = first_finding(pa.array([5, 33612345678]), column="c", prose=True)
    assert found == columns.Finding(1, columns.WHAT[identifiers.PHONE])
    assert first_finding(pa.array([33012345678, 3361234567]), column="c", prose=True) is None
    huge = pa.array([2**64 - 1, 7], pa.uint64())  # 20 digits: neither
    assert first_finding(huge, column="c", prose=True) is None


@pytest.mark.parametrize(
    "kind",
    [pa.binary(), pa.large_binary(), pa.string_view(), pa.binary_view(),
     pa.dictionary(pa.int8(), pa.string())],
)  # fmt: skip
def test_text_in_any_arrow_type_is_screened(kind: pa.DataType) -> None:
    values = pa.array(["ok", f"NIR {NIR}"]).cast(kind)
    assert first_finding(values, column="c", prose=True) == columns.Finding(
        1, columns.WHAT[identifiers.NIR]
    )


def test_decimals_are_screened_as_numbers() -> None:
    from decimal import Decimal

    values = pa.array([Decimal(1), Decimal(NIR)], pa.decimal128(15, 0))
    assert first_finding(values, column="c", prose=True) == columns.Finding(
        1, columns.WHAT[identifiers.NIR]
    )


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (pa.array([[1, 2]]), "list<item: int64> values cannot be screened"),
        (pa.array([{"a": 1}]), "values cannot be screened"),
        (pa.array([b"\xff\xfe"], pa.binary()), "binary values that are not UTF-8 text"),
    ],
)
def test_values_that_cannot_be_screened_are_refused(values: pa.Array, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        first_finding(values, column="c", prose=True)


def test_values_without_text_pass() -> None:
    from datetime import date, time

    for values in (
        pa.array([date(2024, 1, 2)]),
        pa.array([time(8, 30)]),
        pa.array([True]),
        pa.array([None, None], pa.null()),
    ):
        assert first_finding(values, column="c", prose=True) is None


def test_the_number_screen_agrees_with_the_text_rule() -> None:
    """Numbers are screened with numpy: on random numbers, NIRs made to pass and to fail
    each check, it finds exactly what the disclosure checker's rule finds in their text."""
    rng = random.Random(7)
    numbers = []
    for _ in range(4000):
        sex = rng.choice("1234789")
        body = f"{sex}{rng.randrange(100):02d}{rng.randrange(100):02d}{rng.randrange(10**8):08d}"
        numbers.append(int(nir(body)))
        numbers.append(int(body))
        numbers.append(int(body) * 100 + rng.randrange(100))
        numbers.append(rng.randrange(10**16))
        numbers.append(33 * 10**9 + rng.randrange(10**9))  # phone numbers, and near misses
        numbers.append(rng.randrange(10**10, 10**12))
    for context in ("valeur", "nss"):
        for number in numbers:
            text = bool(identifiers.direct_identifiers(str(number), context=context))
            found = first_finding(pa.array([number], pa.int64()), column=context, prose=False)
            assert (found is not None) == text, (number, context)
