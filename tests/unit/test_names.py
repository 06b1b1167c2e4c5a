from __future__ import annotations

import pytest

from agoria_tre.errors import InvalidInput
from agoria_tre.names import DatasetRef, check_slug, check_text, check_username


@pytest.mark.parametrize("slug", ["abc", "covid-eap", "a1-b2-c3", "x" * 40, "2026-onco", "p-0"])
def test_slug_accepted(slug: str) -> None:
    assert check_slug(slug) == slug


@pytest.mark.parametrize(
    "slug",
    [
        "ab",  # too short
        "x" * 41,  # too long
        "Covid",  # upper case
        "-abc",  # leading hyphen
        "abc-",  # trailing hyphen
        "a--b",  # double hyphen
        "a_bc",  # underscore
        "ab c",  # space
        "abc\n",  # newline
        "../etc",  # path
        "étude",  # non-ASCII
        "",
    ],
)
def test_slug_refused_with_a_message(slug: str) -> None:
    with pytest.raises(InvalidInput, match="invalid project slug"):
        check_slug(slug)


@pytest.mark.parametrize("user", ["alice", "a", "jean.dupont@chu-lyon.fr", "u-1", "x_y"])
def test_username_accepted(user: str) -> None:
    assert check_username(user) == user


@pytest.mark.parametrize("user", ["", "Alice", "bob smith", "-x", "x" * 65, "root;rm"])
def test_username_refused(user: str) -> None:
    with pytest.raises(InvalidInput, match="invalid user name"):
        check_username(user)


def test_dataset_ref_round_trip() -> None:
    ref = DatasetRef.parse("patients@12")
    assert (ref.name, ref.version, str(ref)) == ("patients", 12, "patients@12")


@pytest.mark.parametrize(
    "text",
    [
        "patients",
        "patients@",
        "patients@0",
        "patients@v1",
        "@1",
        "Patients@1",
        "pat ients@1",
        "patients@-1",
    ],
)
def test_dataset_ref_refused(text: str) -> None:
    with pytest.raises(InvalidInput):
        DatasetRef.parse(text)


@pytest.mark.parametrize("value", ["", "   ", "x" * 201, "two\nlines"])
def test_free_text_refused(value: str) -> None:
    with pytest.raises(InvalidInput, match="title"):
        check_text("title", value)


def test_free_text_trimmed() -> None:
    assert check_text("title", "  Cardio  ") == "Cardio"
