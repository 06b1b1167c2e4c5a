"""Multipart bodies (formdata.py): fields and files as the airlock's upload route reads them,
names quoted so that a file name cannot end its header, and a line break in one refused."""

from __future__ import annotations

import pytest

from agoria_tre.formdata import multipart


def test_fields_and_files_each_get_a_part_under_one_boundary() -> None:
    kind, body = multipart(
        {"justification": "why", "raw": b"\x00\x01"}, {"file": ("t.csv", b"a\n")}
    )
    boundary = kind.removeprefix("multipart/form-data; boundary=")
    assert body.count(f"--{boundary}\r\n".encode()) == 3
    assert body.endswith(f"--{boundary}--\r\n".encode())
    assert b'name="justification"\r\n\r\nwhy\r\n' in body
    assert b'name="raw"\r\n\r\n\x00\x01\r\n' in body
    assert (
        b'name="file"; filename="t.csv"\r\nContent-Type: application/octet-stream\r\n\r\na\n\r\n'
        in body
    )


def test_quotes_and_backslashes_in_a_file_name_are_escaped() -> None:
    _, body = multipart({}, {"file": ('a"b\\c.csv', b"")})
    assert b'filename="a\\"b\\\\c.csv"' in body


@pytest.mark.parametrize("name", ["a\r\nContent-Type: x", "a\nb"])
def test_a_line_break_in_a_name_is_refused(name: str) -> None:
    with pytest.raises(ValueError, match="line break"):
        multipart({}, {"file": (name, b"")})
    with pytest.raises(ValueError, match="line break"):
        multipart({name: "v"}, {})


def test_each_body_has_its_own_boundary() -> None:
    assert multipart({}, {})[0] != multipart({}, {})[0]
