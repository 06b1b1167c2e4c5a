"""Direct identifiers: NIR, e-mail addresses, phone numbers, dates and pseudonyms, in text, in
tables and in whole files."""

from __future__ import annotations

import random
import uuid

import pytest

from agoria_tre.disclosure.checker import Context, check_bytes
from agoria_tre.disclosure.policy import load_profile
from agoria_tre.disclosure.report import RuleResult
from agoria_tre.disclosure.rules.identifier_tables import scan_table
from agoria_tre.disclosure.rules.identifiers import (
    DATE,
    EMAIL,
    NIR,
    PHONE,
    PSEUDONYM,
    RULES,
    scan_text,
)
from agoria_tre.disclosure.status import Status
from tests.unit.disclosure_support import check, flagged_results, rules

BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


def nir_key(number: str) -> int:
    """The key as the SNDS documents it, written independently of the module."""
    number = (
        number.replace("2A", "19").replace("2B", "18") if number[5:7] in {"2A", "2B"} else number
    )
    return 97 - int(number) % 97


def with_key(number: str) -> str:
    return f"{number}{nir_key(number):02d}"


def spaced(nir: str) -> str:
    """``1841276451089KK`` as ``1 84 12 76 451 089 KK``."""
    groups = (1, 2, 2, 2, 3, 3, 2)
    out, i = [], 0
    for size in groups:
        out.append(nir[i : i + size])
        i += size
    return " ".join(g for g in out if g)


def by_rule(results: list[RuleResult]) -> dict[str, RuleResult]:
    ids = [r.rule for r in results]
    assert len(ids) == len(set(ids)), "one result per rule"
    assert ids == [r for r in RULES if r in ids], "results come in RULES order"
    assert all(r.status is not Status.PASS for r in results), "findings only, never a pass"
    return {r.rule: r for r in results}


def found(text: str, **kwargs: frozenset[str]) -> dict[str, RuleResult]:
    return by_rule(scan_text(text, where="cell 3 / output 1", **kwargs))


def pseudonym(rng: random.Random) -> str:
    return "".join(rng.choice(BASE32) for _ in range(26))


# --- NIR -------------------------------------------------------------------------------------

NUMBER = "1841276451089"  # man, born December 1984, Seine-Maritime (76), commune 451, order 089


def test_nir_with_valid_key_fails() -> None:
    nir = with_key(NUMBER)
    result = found(f"patient {nir} inclus")[NIR]
    assert result.status is Status.FAIL
    assert result.summary.startswith("1 French social security number (NIR: 1 with a valid key)")
    assert "cell 3 / output 1" in result.summary
    assert result.cells == ()


@pytest.mark.parametrize("sep", [" ", ".", "\u00a0", "-"])
def test_nir_with_separators_between_groups(sep: str) -> None:
    text = spaced(with_key(NUMBER)).replace(" ", sep)
    assert found(f"Assuré : {text}")[NIR].status is Status.FAIL


def test_nir_key_separated_from_the_number() -> None:
    assert NIR in found(f"{NUMBER} {nir_key(NUMBER):02d}")


def test_nir_with_wrong_key_is_not_reported() -> None:
    wrong = (nir_key(NUMBER) % 97) + 1
    for text in (f"{NUMBER}{wrong:02d}", spaced(f"{NUMBER}{wrong:02d}")):
        assert NIR not in found(text)
        assert NIR not in found(f"NIR : {text}"), "a wrong key is never a NIR, even beside 'NIR'"


@pytest.mark.parametrize("number", ["285032A123456", "192052B045012"])
def test_corsica_2a_and_2b(number: str) -> None:
    nir = with_key(number)
    assert found(nir)[NIR].status is Status.FAIL
    assert found(spaced(nir))[NIR].status is Status.FAIL
    assert found(nir.lower())[NIR].status is Status.FAIL
    # The key of the number read with "20" for the département is another, invalid, key.
    naive = 97 - int(number[:5] + "20" + number[7:]) % 97
    assert naive != nir_key(number)
    assert NIR not in found(f"{number}{naive:02d}")


@pytest.mark.parametrize("sex", ["3", "4", "7", "8"])
def test_temporary_numbers(sex: str) -> None:
    assert NIR in found(with_key(sex + NUMBER[1:]))


@pytest.mark.parametrize(
    "number",
    [
        "5841276451089",  # sex 5 does not exist
        "1841576451089",  # month 15
        "1844576451089",  # month 45
        "1840076451089",  # month 00
    ],
)
def test_impossible_numbers_are_not_reported(number: str) -> None:
    assert NIR not in found(with_key(number))


@pytest.mark.parametrize("month", ["20", "42", "50", "99"])
def test_special_months_are_accepted(month: str) -> None:
    assert NIR in found(with_key(NUMBER[:3] + month + NUMBER[5:]))


def test_nir_inside_longer_numbers_is_not_reported() -> None:
    nir = with_key(NUMBER)
    for text in (
        f"9{nir}",
        f"{nir}7",
        f"x{nir}",
        f"{nir}.5",
        f"3.{nir}",
        f"12 {spaced(nir)}",  # a row of single-spaced counts
        f"{spaced(nir)} 3",
    ):
        assert NIR not in found(text), text


def test_nir_without_key_only_beside_a_word_naming_it() -> None:
    assert NIR not in found(f"identifiant {NUMBER}")
    assert NIR not in found(f"total {spaced(NUMBER)} euros")
    for text in (
        f"NIR : {NUMBER}",
        f"nir_patient={NUMBER}",
        f"N° sécu {spaced(NUMBER)}",
        f"numéro de sécurité sociale : {NUMBER}",
        f"{NUMBER} (numéro INSEE)",
        f"social security number {NUMBER}",
    ):
        result = found(text)[NIR]
        assert result.status is Status.FAIL
        assert "1 without key, beside a word naming it" in result.summary
    far = "NIR" + " " * 80 + NUMBER
    assert NIR not in found(far)


def test_random_long_numbers_are_rarely_reported() -> None:
    rng = random.Random(7)
    numbers = [str(rng.randrange(10**14, 10**15)) for _ in range(2000)]
    hits = sum(NIR in found(n) for n in numbers)
    # Only a first digit of 1, 2, 3, 4, 7 or 8 (2 in 3), a possible month (85 in 100) and a
    # matching key (1 in 97) survive: about 12 in 2000, where a bare 15-digit number in an
    # output deserves a look anyway.
    assert hits < 25


# --- e-mail ----------------------------------------------------------------------------------


def test_email_fails_and_is_masked() -> None:
    result = found("Contact : jean.dupont@chu-lyon.fr ou <m.martin+sdc@aphp.fr>.")[EMAIL]
    assert result.status is Status.FAIL
    assert result.summary.startswith("2 e-mail addresses")
    assert "j***@***.fr" in result.summary
    assert "m***@***.fr" in result.summary
    assert "dupont" not in result.summary
    assert "chu-lyon" not in result.summary


@pytest.mark.parametrize(
    "text", ["x.y@example.com", "A.B@Univ-Paris.EDU", "contact@health-data-hub.org", "a@b.co.uk"]
)
def test_email_forms(text: str) -> None:
    assert EMAIL in found(text)


@pytest.mark.parametrize(
    "text",
    [
        "y_hat = X@beta.values",  # matrix product in notebook code
        "@pytest.fixture",
        "user@localhost",
        "résultat @ 95 %",
        "pandas@2.1.4",
    ],
)
def test_not_emails(text: str) -> None:
    assert EMAIL not in found(text)


# --- phone -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "mask"),
    [
        ("06 12 34 56 78", "06 ** ** ** **"),
        ("06.12.34.56.78", "06 ** ** ** **"),
        ("06-12-34-56-78", "06 ** ** ** **"),
        ("0612345678", "06 ** ** ** **"),
        ("01 23 45 67 89", "01 ** ** ** **"),
        ("09\u00a087\u00a065\u00a043\u00a021", "09 ** ** ** **"),
        ("+33 6 12 34 56 78", "+33 6 ** ** ** **"),
        ("+33612345678", "+33 6 ** ** ** **"),
        ("0033 6 12 34 56 78", "+33 6 ** ** ** **"),
        ("0033612345678", "+33 6 ** ** ** **"),
        ("+33 (0)6 12 34 56 78", "+33 6 ** ** ** **"),
        ("+33 (0)1 23 45 67 89", "+33 1 ** ** ** **"),
    ],
)
def test_phone_forms(text: str, mask: str) -> None:
    result = found(f"Tél. : {text}.")[PHONE]
    assert result.status is Status.FAIL
    assert result.summary == f"1 French phone number ({mask}) in cell 3 / output 1"


@pytest.mark.parametrize(
    "text",
    [
        "0612345678.5",  # a count with decimals
        "3,0612345678",
        "10612345678",  # inside a longer digit run
        "06123456789",
        "x0612345678",
        "00 12 34 56 78",  # no 0X with X in 1-9
        "06 12 34 56",  # too short
        "1 06 12 34 56 78",  # a row of counts
        "06 12 34 56 78 9",
        "06 12.34-56 78",  # mixed separators
        "2026-11-28",
        "+44 6 12 34 56 78",
    ],
)
def test_not_phones(text: str) -> None:
    assert PHONE not in found(text)


def test_phone_count_cell_with_decimals_in_a_table() -> None:
    assert scan_table(["n"], [], [], [["0612345678.5"], ["12"]]) == []


# --- dates -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "2026-11-28",
        "2026-11-28T10:00:00",
        "2026-11-28 10:00:00",
        "2026/11/28",
        "28/11/2026",
        "28.11.2026",
        "28-11-2026",
        "1/2/2026",
        "11/28/2026",
        "28/11/26",
        "28 novembre 2026",
        "1er janvier 2026",
        "28 févr. 2026",
        "15 août 2026",
        "28 Nov 2026",
        "28NOV2026",
        "28-Nov-2026",
        "Nov 28 2026",
        "Nov 28, 2026",
        "November 28th, 2026",
        "Sat, 28 Nov 2026",
    ],
)
def test_full_dates_fail_where_a_birth_is_named_and_are_no_finding_elsewhere(text: str) -> None:
    result = found(f"né le {text}, fin")[DATE]
    assert result.status is Status.FAIL
    assert result.summary == "1 full date in cell 3 / output 1: 1 where a birth date is named"
    assert DATE not in found(f"extrait le {text}, fin")  # a study date: not an identifier


@pytest.mark.parametrize(
    "text",
    [
        "2026-11",
        "11/2026",
        "novembre 2026",
        "Nov 2026",
        "2026",
        "31/02/2026",  # no such day
        "2026-13-01",
        "12/34/2026",
        "28.11.26",  # two-digit years only with slashes
        "1.28.11.2026",
        "28/11/2026/3",
        "28 patients 2026",
        "3.14 / 2.71",
        "28/11/0001",
        "version 1.2.3",
    ],
)
def test_not_full_dates(text: str) -> None:
    assert DATE not in found(text)


@pytest.mark.parametrize(
    "line",
    [
        "date_naissance: 1984-12-03",
        "Date de naissance : 03/12/1984",
        "DDN 03/12/1984",
        "dob=1984-12-03",
        "BirthDate 1984-12-03",
        "Patiente née le 3 décembre 1984 à Rouen",
        "né le 03.12.1984",
        "DATNAIS;03DEC1984",
    ],
)
def test_date_on_a_line_naming_a_birth_date_fails(line: str) -> None:
    result = found(f"résumé\n{line}\nfin")[DATE]
    assert result.status is Status.FAIL
    assert "1 where a birth date is named" in result.summary


def test_birth_words_on_another_line_do_not_count() -> None:
    text = "date_naissance retirée\nextraction du 28/11/2026\nà ma connaissance, le 28/11/2026"
    assert DATE not in found(text)


def test_date_beside_a_pseudonym_fails() -> None:
    rng = random.Random(1)
    pid = pseudonym(rng)
    pseudonyms = frozenset({pid, pseudonym(rng)})
    results = found(f"{pid}  hospitalisé le 2026-11-28\nautre 2026-11-29", pseudonyms=pseudonyms)
    assert results[DATE].status is Status.FAIL
    assert "1 on the line or row of a pseudonym; 1 other, not an identifier by itself" in (
        results[DATE].summary
    )
    assert results[PSEUDONYM].status is Status.FAIL
    assert pid not in results[DATE].summary
    assert pid not in results[PSEUDONYM].summary


STATSMODELS = """\
                            OLS Regression Results
==============================================================================
Dep. Variable:                      y   R-squared:                       0.972
Model:                            OLS   Adj. R-squared:                  0.971
Method:                 Least Squares   F-statistic:                     1115.
Date:                Sat, 28 Nov 2026   Prob (F-statistic):           1.90e-74
Time:                        20:15:26   Log-Likelihood:                -131.34
No. Observations:                 100   AIC:                             270.7
Df Residuals:                      96   BIC:                             281.1
"""


def test_a_model_summary_print_date_is_no_finding() -> None:
    assert found(STATSMODELS) == {}


def test_a_data_freeze_date_is_no_finding() -> None:
    assert found("Extraction : 28 Nov 2026") == {}


# --- pseudonyms ------------------------------------------------------------------------------


def test_pseudonyms_in_text_are_found_as_whole_tokens() -> None:
    rng = random.Random(2)
    pid = pseudonym(rng)
    pseudonyms = frozenset({pid})
    result = found(f"id={pid};\n['{pid}', 'x']\nX{pid} {pid}Y {pid.lower()}", pseudonyms=pseudonyms)
    assert result[PSEUDONYM].status is Status.FAIL
    assert result[PSEUDONYM].summary == (
        "row-level data: a pseudonym of the project's datasets (or a value shaped like the"
        " platform's pseudonyms) appears; 3 occurrences in cell 3 / output 1"  # lower case too
    )
    assert PSEUDONYM not in found("nothing here", pseudonyms=pseudonyms)
    assert PSEUDONYM not in found(f"id={pid.lower()}")  # unknown, and not the platform's shape


def test_pseudonyms_with_hyphens() -> None:
    pid = str(uuid.UUID(int=random.Random(3).getrandbits(128)))
    pseudonyms = frozenset({pid, "ZZZZZZZZZZZZZZZZZZZZZZZZZZ"})
    assert found(f"patient {pid}.", pseudonyms=pseudonyms)[PSEUDONYM].summary.endswith(
        "1 occurrence in cell 3 / output 1"
    )
    assert PSEUDONYM not in found(f"patient x{pid}", pseudonyms=pseudonyms)
    assert PSEUDONYM not in found(f"patient {pid[:-1]}", pseudonyms=pseudonyms)
    assert PSEUDONYM not in found(pid.split("-")[0], pseudonyms=pseudonyms)


def test_many_pseudonyms_in_a_large_text() -> None:
    rng = random.Random(4)
    pseudonyms = frozenset(pseudonym(rng) for _ in range(100_000))
    present = sorted(pseudonyms)[:3]
    words = [pseudonym(rng).lower() for _ in range(37_000)]  # about 1e6 characters
    words[100], words[20_000], words[-1] = present
    text = " ".join(words)
    assert len(text) > 990_000
    result = found(text, pseudonyms=pseudonyms)[PSEUDONYM]
    assert result.summary.endswith("3 occurrences in cell 3 / output 1")
    # Cached index: a second scan with an equal set reuses it.
    assert found(text, pseudonyms=frozenset(pseudonyms))[PSEUDONYM] == result


# --- tables ----------------------------------------------------------------------------------


def test_pseudonym_in_a_cell_is_flagged_at_its_position() -> None:
    pid = pseudonym(random.Random(5))
    cells = [["12", "15"], ["14", "17"], ["20", pid], ["11", "13"]]
    results = by_rule(
        scan_table(
            ["a", "b"],
            ["age"],
            [["<40"], ["40-60"], ["60-80"], ["80+"]],
            cells,
            pseudonyms=frozenset({pid}),
        )
    )
    assert list(results) == [PSEUDONYM]
    assert results[PSEUDONYM].cells == ((2, 1),)
    assert results[PSEUDONYM].summary.endswith("1 occurrence in 1 data cell")


def test_identifier_in_row_labels_flags_the_whole_row() -> None:
    pid = pseudonym(random.Random(6))
    results = by_rule(
        scan_table(
            ["n", "mean"],
            ["patient"],
            [["A"], [pid], ["C"]],
            [["12", "3.4"], ["15", "2.2"], ["30", "1.0"]],
            pseudonyms=frozenset({pid}),
        )
    )
    assert results[PSEUDONYM].cells == ((1, 0), (1, 1))
    assert "the labels of 1 row (its whole row flagged)" in results[PSEUDONYM].summary


def test_identifier_in_a_header_flags_the_whole_column() -> None:
    results = by_rule(
        scan_table(
            ["n", "contact jean.dupont@chu-lyon.fr"],
            ["groupe"],
            [["a"], ["b"]],
            [["12", "3"], ["15", "4"], ["16"]],  # ragged: row 2 has no column 1
        )
    )
    assert results[EMAIL].cells == ((0, 1), (1, 1))
    assert "1 column header (its whole column flagged)" in results[EMAIL].summary
    assert "dupont" not in results[EMAIL].summary


def test_identifier_in_a_label_name_has_no_cells_but_keeps_its_status() -> None:
    results = by_rule(scan_table(["n"], ["par jean.dupont@chu-lyon.fr"], [["a"]], [["12"]]))
    assert results[EMAIL].status is Status.FAIL
    assert results[EMAIL].cells == ()
    assert "the names of 1 label column" in results[EMAIL].summary


def test_identifiers_in_empty_table_labels() -> None:
    results = by_rule(scan_table(["06 12 34 56 78"], [], [], []))
    assert results[PHONE].status is Status.FAIL
    assert results[PHONE].cells == ()


def test_nir_in_a_column_named_nir_without_key() -> None:
    cells = [[NUMBER, "12"], ["2850375123456", "14"]]
    results = by_rule(scan_table(["NIR", "n"], [], [], cells))
    assert results[NIR].cells == ((0, 0), (1, 0))
    assert results[NIR].summary.startswith(
        "2 French social security numbers (NIR: 2 without key, beside a word naming it) in 2"
    )
    assert by_rule(scan_table(["identifiant", "n"], [], [], cells)) == {}
    keyed = by_rule(scan_table(["id"], [], [], [[with_key(NUMBER)]]))
    assert keyed[NIR].cells == ((0, 0),)


def test_birth_date_column_fails_other_date_columns_are_no_finding() -> None:
    header = ["date_naiss", "date_sortie", "n"]
    cells = [["1984-12-03", "2026-01-15", "12"], ["1990-06-21", "2026-02-01", "14"]]
    birth = by_rule(scan_table(header, [], [], cells))[DATE]
    assert birth.status is Status.FAIL
    assert birth.cells == ((0, 0), (1, 0))  # the birth dates only
    assert (
        "4 full dates in 2 data cells: 2 where a birth date is named; 2 other, not an identifier"
        " by itself"
    ) in birth.summary
    assert DATE not in by_rule(scan_table(header[1:], [], [], [row[1:] for row in cells]))


def test_birth_date_in_row_labels_under_a_birth_date_label_column() -> None:
    results = by_rule(scan_table(["n"], ["ddn"], [["03/12/1984"], ["total"]], [["12"], ["40"]]))
    assert results[DATE].status is Status.FAIL
    assert results[DATE].cells == ((0, 0),)
    # The same label under another name is a week, not an identifier.
    assert DATE not in by_rule(scan_table(["n"], ["semaine"], [["03/12/1984"]], [["12"]]))


def test_transposed_table_with_a_birth_date_row() -> None:
    results = by_rule(
        scan_table(
            ["p1", "p2"],
            ["variable"],
            [["date de naissance"], ["n"]],
            [["03/12/1984", "21/06/1990"], ["12", "14"]],
        )
    )
    assert results[DATE].status is Status.FAIL
    assert results[DATE].cells == ((0, 0), (0, 1))


def test_date_in_a_row_with_a_pseudonym_fails() -> None:
    pid = pseudonym(random.Random(8))
    results = by_rule(
        scan_table(
            ["patient", "sortie"],
            [],
            [],
            [[pid, "2026-11-28"], ["x", "2026-11-29"]],
            pseudonyms=frozenset({pid}),
        )
    )
    assert results[DATE].status is Status.FAIL
    assert "1 on the line or row of a pseudonym; 1 other, not an identifier by itself" in (
        results[DATE].summary
    )
    assert results[DATE].cells == ((0, 1),)
    assert results[PSEUDONYM].cells == ((0, 0),)


def test_clean_table_has_no_findings() -> None:
    header = ["sexe", "n", "moyenne", "p"]
    cells = [["F", "1234", "56.7", "0.0312"], ["M", "0612", "2026", "1e-05"]]
    assert scan_table(header, ["classe d'âge"], [["<40"], ["40+"]], cells) == []


# --- masking, contract, robustness -----------------------------------------------------------


def test_no_summary_reproduces_an_identifier() -> None:
    rng = random.Random(9)
    pid = pseudonym(rng)
    nir = with_key(NUMBER)
    raw = {
        nir,
        spaced(nir),
        NUMBER,
        "jean.dupont@chu-lyon.fr",
        "06 12 34 56 78",
        "0612345678",
        "+33 6 12 34 56 78",
        "03/12/1984",
        "1984",
        pid,
    }
    text = "\n".join(
        [
            f"NIR {nir} ; {spaced(nir)} ; sécu {NUMBER}",
            "écrire à jean.dupont@chu-lyon.fr",
            "tél. 06 12 34 56 78, 0612345678 ou +33 6 12 34 56 78",
            f"né le 03/12/1984 ({pid})",
        ]
    )
    results = scan_text(text, where="cell 1", pseudonyms=frozenset({pid}))
    assert [r.rule for r in results] == list(RULES)
    table = scan_table(
        sorted(raw), sorted(raw), [sorted(raw)], [sorted(raw)], pseudonyms=frozenset({pid})
    )
    assert [r.rule for r in table] == list(RULES)
    for result in results + table:
        for value in raw:
            assert value not in result.summary, (result.rule, value)
        assert "dupont" not in result.summary
        assert "5678" not in result.summary


def test_clean_text_has_no_findings() -> None:
    text = "Effectifs par classe d'âge : 1234 patients, p = 0.0312, IC95 % [1.2 ; 3.4], 2019-2026."
    assert scan_text(text, where="cell 1") == []
    assert scan_text("", where="") == []


def test_empty_where() -> None:
    assert found_summary("a@b.fr", "") == "1 e-mail address (a***@***.fr)"


def found_summary(text: str, where: str) -> str:
    (result,) = scan_text(text, where=where)
    return result.summary


def test_huge_runs_of_digits_and_spaces_complete() -> None:
    rng = random.Random(10)
    text = "".join(rng.choice("0123456789 ") for _ in range(1_000_000))
    scan_text(text, where="x")  # linear: must complete, whatever it finds
    scan_text("1" * 1_000_000, where="x")
    scan_text("1 " * 500_000, where="x")
    scan_text("a" * 1_000_000 + "@", where="x")
    scan_text("a.b@" * 250_000, where="x")
    scan_text("28 nov " * 150_000, where="x")


@pytest.mark.parametrize("seed", range(5))
def test_garbage_never_raises(seed: int) -> None:
    rng = random.Random(seed)
    data = bytes(rng.randrange(256) for _ in range(50_000))
    for text in (
        data.decode("utf-8", "surrogateescape"),
        data.decode("latin-1"),
        "".join(chr(rng.randrange(0x110000)) for _ in range(5_000)),
    ):
        scan_text(text, where=text[:20], pseudonyms=frozenset({text[100:126], "", "-"}))
        scan_table(
            [text[:50]],
            [text[50:60]],
            [[text[60:70]]],
            [[text[:1000], text[1000:]]],
            pseudonyms=frozenset({text[:26]}),
        )


def test_ragged_and_odd_tables_never_raise() -> None:
    scan_table([], [], [], [])
    scan_table(["a"], ["k"], [["x", "y"], []], [[], ["1", "2", "3"], ["06 12 34 56 78"]])
    odd = scan_table(["a"], [], [], [[1234, None]])  # type: ignore[list-item]
    assert odd == []


def test_a_decimal_is_not_a_nir() -> None:
    # 4629795475400 with key 14 would be a valid NIR: as a decimal it is a survival time.
    number = "4629795475400"
    key = 97 - int(number) % 97
    assert scan_text(f"time {number[:3]}.{number[3:]}{key:02d}", where="t") == []
    groups = [number[0], number[1:3], number[3:5], number[5:7], number[7:10], number[10:]]
    dotted = ".".join([*groups, f"{key:02d}"])
    assert [r.rule for r in scan_text(f"NIR {dotted}", where="t")] == ["identifier.nir"]


def test_pseudonyms_cut_short_by_pandas_or_in_another_case_are_found() -> None:
    pseudonym = "3f9a0c7b2d4e4f1a8b6c9d0e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c"
    shown = pseudonym[:46] + "..."
    found = scan_text(
        f"   who  age\n0  {shown}  54\n", where="t", pseudonyms=frozenset({pseudonym})
    )
    assert [r.rule for r in found] == ["identifier.pseudonym"]
    upper = scan_text(f"id {pseudonym.upper()}", where="t", pseudonyms=frozenset({pseudonym}))
    assert [r.rule for r in upper] == ["identifier.pseudonym"]
    unrelated = scan_text(
        "0  aaaaaaaaaaaaaaaaaaaaaaaa...  54", where="t", pseudonyms=frozenset({pseudonym})
    )
    assert unrelated == []


@pytest.mark.parametrize("length", [12, 13, 20, 25])
def test_bare_prefixes_of_pseudonyms_are_found(length: int) -> None:
    pseudonym = "K7Q2M9X4T1B8Z3R5W6Y0P2N4AC"  # base32, as the platform's pseudonyms
    for shown in (pseudonym[:length], pseudonym[:length].lower()):
        found = scan_text(
            f"patient {shown} had 3 events", where="t", pseudonyms=frozenset({pseudonym})
        )
        assert [r.rule for r in found] == ["identifier.pseudonym"], shown
        assert found[0].summary.endswith("1 occurrence in t")


def test_short_or_unrelated_prefixes_are_not_pseudonyms() -> None:
    pseudonym = "K7Q2M9X4T1B8Z3R5W6Y0P2N4AC"
    for text in ("K7Q2M9X4T1B", "K7Q2M9X4T1B9", "XK7Q2M9X4T1B8Z", "k7q2m9x4t1b8z3r5w6y0p2n4acz"):
        assert scan_text(f"id {text}", where="t", pseudonyms=frozenset({pseudonym})) == [], text


def test_uuid_pseudonyms_in_another_case_or_without_hyphens_are_found() -> None:
    uuid = "3f9a0c12-4b5c-4d6e-8f90-a1b2c3d4e5f6"
    for shown in (uuid.upper(), uuid.replace("-", ""), uuid):
        found = scan_text(f"id {shown}", where="t", pseudonyms=frozenset({uuid}))
        assert [r.rule for r in found] == ["identifier.pseudonym"], shown
        assert found[0].summary.endswith("1 occurrence in t")


@pytest.mark.parametrize(
    "text",
    [
        "(+33) 6 12 34 56 78",
        "33612345678",
        "+33-6-12-34-56-78",
        "+33.6.12.34.56.78",
        "+33 612 345 678",
    ],
)
def test_international_phone_forms(text: str) -> None:
    assert [r.rule for r in scan_text(f"tel {text}", where="t")] == ["identifier.phone"]


@pytest.mark.parametrize("text", ["mean 33.612345678", "total 1233612345678", "12 345 678 units"])
def test_numbers_that_are_not_phones(text: str) -> None:
    assert scan_text(text, where="t") == []


# --- NIRs grouped by thousands, phones that kept their trunk 0 ----------------------------------

GROUPED_BODY = "1850578006084"
GROUPED_NIR = with_key(GROUPED_BODY)


def thousands(number: str, sep: str) -> str:
    head = len(number) % 3 or 3
    groups = [number[:head]] + [number[i : i + 3] for i in range(head, len(number), 3)]
    return sep.join(groups)


@pytest.mark.parametrize("sep", [",", " ", "\u00a0", "\u202f", ".", "'"])
def test_nir_grouped_by_thousands(sep: str) -> None:
    text = f"x: {thousands(GROUPED_NIR, sep)}"
    assert [r.rule for r in scan_text(text, where="t")] == ["identifier.nir"]


def test_nir_grouped_by_thousands_in_files() -> None:
    assert check("a.txt", f"x: {thousands(GROUPED_NIR, ' ')}\n").status is Status.FAIL
    csv = f'grp,value\nA,"{thousands(GROUPED_NIR, ",")}"\nB,12\n'
    assert "identifier.nir" in flagged_results(check("t.csv", csv))
    results = scan_table(["value"], ["grp"], [["A"]], [[thousands(GROUPED_NIR, ",")]])
    assert [(r.rule, r.cells) for r in results] == [("identifier.nir", ((0, 0),))]


def test_keyless_nir_by_thousands_needs_a_word_naming_it() -> None:
    grouped = thousands(GROUPED_BODY, ",")  # 1,850,578,006,084
    assert scan_text(f"total {grouped}", where="t") == []
    assert [r.rule for r in scan_text(f"NIR {grouped}", where="t")] == ["identifier.nir"]


@pytest.mark.parametrize(
    "text",
    [
        "185 057 800",  # a row of counts
        "counts: 185 057 800 608 12",
        thousands(GROUPED_NIR[:-2] + f"{(int(GROUPED_NIR[-2:]) + 1) % 100:02d}", " "),  # wrong key
        "12 " + thousands(GROUPED_NIR, " "),  # inside a longer run of groups
        thousands(GROUPED_NIR, " ") + " 120",
        thousands(GROUPED_NIR, ",") + ".5",  # a decimal
        thousands(GROUPED_NIR, ",")[:-1] + "," + "4",  # a group of one digit
        "1,234,567,890,123",
        "€ 955,057,800,608,491",  # no possible first digit
    ],
)
def test_numbers_grouped_by_thousands_that_are_not_nirs(text: str) -> None:
    assert "identifier.nir" not in {r.rule for r in scan_text(text, where="t")}, text


@pytest.mark.parametrize("text", ["+33 06 12 34 56 78", "0033 06 12 34 56 78", "+33 0612345678"])
def test_phone_with_the_trunk_zero_kept(text: str) -> None:
    assert [r.rule for r in scan_text(f"tel: {text}", where="t")] == ["identifier.phone"]
    assert check("p.txt", f"tel: {text}\n").status is Status.FAIL


@pytest.mark.parametrize(
    "text",
    [
        "33 06 12 34 56 78",  # no international prefix: a row of counts
        "+33 00 12 34 56 78",
        "+33 06 12 34 56",
        "+33 06 12 34 56 78 90",
        "1033 06 12 34 56 78",
    ],
)
def test_not_phones_with_a_zero(text: str) -> None:
    assert "identifier.phone" not in {r.rule for r in scan_text(text, where="t")}, text


# --- identifiers in whole files -----------------------------------------------------------------


def test_identifiers_and_row_level_in_a_table() -> None:
    item = check("t.csv", "patient_id,age\nQX7A,54\nZZ81,61\n")
    assert rules(item)["row_level"].status is Status.FAIL
    mail = check("t.csv", "centre,n\njean.dupont@chu-lyon.fr,40\n")
    assert rules(mail)["identifier.email"].status is Status.FAIL
    assert "jean.dupont" not in rules(mail)["identifier.email"].summary


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("a.json", '{"contact": "jean.dupont\\u0040gmail.com"}'),
        ("a.md", "contact: jean&#64;gmail.com"),
        ("a.md", "contact: jean<span></span>@gmail.com"),
    ],
)
def test_identifiers_hidden_by_encoding_are_found(name: str, data: str) -> None:
    assert rules(check(name, data))["identifier.email"].status is Status.FAIL


def test_phone_numbers_that_lost_their_leading_zero() -> None:
    item = check("t.csv", "patient_group,tel\nA,612345678\nB,145678901\n")
    assert rules(item)["identifier.phone"].cells == ((0, 0), (1, 0))
    readings = check("t.csv", "group,telemetry readings\nA,612345678\n")
    assert "identifier.phone" not in rules(readings)
    assert "identifier.phone" in rules(check("t.csv", "group,num_tel\nA,612345678\n"))


def test_pseudonyms_of_the_project_mean_row_level_data() -> None:
    ctx = Context(load_profile("fr"), frozenset({"K7QWERTYUIOPASDFGHJKLZXCVB"}))
    report = check_bytes("out.txt", b"row 1: K7QWERTYUIOPASDFGHJKLZXCVB 54 F\n", ctx).report
    assert rules(report)["identifier.pseudonym"].status is Status.FAIL


def test_numeric_pseudonyms_that_lost_their_leading_zeros() -> None:
    ctx = Context(load_profile("fr"), frozenset({"000123456"}))
    report = check_bytes("o.txt", b"Outlier: subject 123456 has BMI 61.2\n", ctx).report
    assert rules(report)["identifier.pseudonym"].status is Status.FAIL
