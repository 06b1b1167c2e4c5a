"""The forms a text takes for the identifier scan: decoded, as a browser renders its markup,
and with the variants a spreadsheet or numpy prints numbers in."""

from __future__ import annotations

import html
import re
from decimal import Decimal, InvalidOperation


def decode_text(data: bytes) -> str | None:
    if b"\x00" in data:
        return None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            return data.decode("cp1252")
        except UnicodeDecodeError:
            return None


_TAG = re.compile(r"<[^>]*>")


def decoded_forms(text: str) -> str:
    """What a reader sees of markup: HTML without tags and with entities decoded
    (``jean&#64;chu.fr``, ``jean<span></span>@chu.fr``)."""
    if "<" not in text and "&" not in text:
        return ""
    return html.unescape(_TAG.sub("", text))


ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


_FLOAT_ID = re.compile(r"\b(\d{13,15})\.0+\b")


_WIDE_GAPS = re.compile(r"(?<=\d)(?:[ \t]{2,}|\t|/)(?=\d)")


_FIELD_COMMA = re.compile(r"(?<=\d{9}),(?=\d)")


_SCIENTIFIC = re.compile(r"\b\d\.\d{12,}[eE]\+\d{2}\b")


def _expand(match: re.Match[str]) -> str:
    try:
        return str(int(Decimal(match.group())))
    except (InvalidOperation, ValueError, OverflowError):
        return match.group()


def variants(text: str) -> str:
    """Other readings of the same text: without terminal colour codes, identifiers printed
    as floats (``185057800608491.0``, ``1.850578006084910000e+14``), digits spaced by tabs,
    double spaces or slashes."""
    # Each form is looked for only where the characters it needs are (a long text is read
    # once per form otherwise).
    variant = ANSI.sub("", text) if "\x1b" in text else text
    if "e+" in variant or "E+" in variant:
        variant = _SCIENTIFIC.sub(_expand, variant)
    if ".0" in variant:
        variant = _FLOAT_ID.sub(r"\1", variant)
    if "  " in variant or "\t" in variant or "/" in variant:
        variant = _WIDE_GAPS.sub(" ", variant)
    if "," in variant:  # "185057800608491,3": a field, not a decimal
        variant = _FIELD_COMMA.sub(", ", variant)
    return variant if variant != text else ""
