"""Rules on a notebook output that is not a table, read with the code that printed it.

:func:`agoria_tre.disclosure.readers.code.shown` says what the cell's shown values are
computed as; the output's text says what numbers appear. A table found in the output is
also checked as a table; these rules add what only the code tells: that a bare number is a
count, that a printed series holds maxima, that a list holds a column's values.

- a count under the threshold, shown alone or in a short print or a list, fails;
- an extreme (a minimum, a maximum, the first values after a sort) fails; a quantile is
  for review;
- a column's values listed fail as row-level data; its distinct values too when they are
  measures (decimals, or a measure's name such as ``age``), or many.
"""

from __future__ import annotations

import re

from agoria_tre.disclosure.policy import Policy
from agoria_tre.disclosure.readers.code import Computes, Shown, shown
from agoria_tre.disclosure.registry import resolve
from agoria_tre.disclosure.report import RuleResult, flagged
from agoria_tre.disclosure.status import Status

_QUOTED = re.compile(r"'[^'\n]*'|\"[^\"\n]*\"")
_NUMPY_SCALAR = re.compile(r"\b(?:np|numpy)\.(?:int|uint|float)\d*\(\s*([^()]*?)\s*\)")
_SHOWN_NUMBER = re.compile(r"(?<![\w.,/\-:])(-?\d+(?:\.\d*)?(?:[eE][+-]?\d+)?)(?![\w:]|[.,]\d)")
_FOOTER = re.compile(r"(?:dtype|Name|Length|Freq)\s*[:=][^\n]*")
_YEAR = re.compile(r"(?:19|20)\d\d")
MEASURE_NAME = re.compile(
    r"(?<![a-zà-ÿ])(?:age|âge|weight|poids|cost|co[ûu]t|los|bmi|imc|income|revenu|height"
    r"|taille|salary|salaire|sbp|dbp|pression|dur[ée]e|length|stay|s[ée]jour|date|dob"
    r"|naissance|birth|montant|amount|price|prix|glyc|chol|creat|hba1c|tension|score|time"
    r"|delay|d[ée]lai|crp)",
    re.IGNORECASE,
)
MANY_DISTINCT = 15


def shown_numbers(text: str) -> list[str]:
    """The numbers an output shows, outside quoted strings and pandas' footers."""
    text = _NUMPY_SCALAR.sub(r"\1", _QUOTED.sub("", text))
    return _SHOWN_NUMBER.findall(_FOOTER.sub("", text))


def _whole_small(number: str, policy: Policy) -> bool:
    if "." in number or "e" in number.lower() or number.startswith("-"):
        return False
    return 0 < int(number) < policy.threshold


def _is_listing(text: str) -> bool:
    stripped = text.strip()
    return stripped.startswith(("[", "(", "{", "array(")) or "[" in stripped


def _first(found: list[Shown], kind: Computes) -> Shown | None:
    return next((s for s in found if kind in s.computes), None)


def _quote(line: str) -> str:
    return repr(line.strip()[:40])


def _small_count(found: list[Shown], numbers: list[str], policy: Policy) -> Shown | None:
    """The shown value whose count is under the threshold: by position when the cell shows
    one value whose numbers are known one by one (``df.shape``: rows, then columns)."""
    for value in found:
        if Computes.COUNT not in value.computes:
            continue
        if value.parts is not None and len(found) == 1 and len(value.parts) == len(numbers):
            counted = [
                n for n, part in zip(numbers, value.parts, strict=True) if Computes.COUNT in part
            ]
        else:
            counted = numbers
        if any(_whole_small(n, policy) for n in counted):
            return value
    return None


def code_output_rules(source: str, text: str, policy: Policy, *, where: str) -> list[RuleResult]:
    """The rules above for one output of a code cell."""
    numbers = shown_numbers(text)
    if not numbers:
        return []
    found = shown(source)
    results: list[RuleResult] = []
    lines = [line for line in text.splitlines() if line.strip()]
    short = len(lines) <= 3 or _is_listing(text)
    count = _small_count(found, numbers, policy) if short else None
    if count is not None:
        results.append(
            flagged(
                "threshold.text",
                Status.FAIL,
                f"{where} shows a count under {policy.threshold} (from {_quote(count.line)})",
            )
        )
    extreme = _first(found, Computes.EXTREME)
    quantile = _first(found, Computes.QUANTILE)
    if extreme is not None:  # it supersedes the quantile and the listing (registry.py)
        results.append(
            flagged(
                "statistic.extremes",
                Status.FAIL,
                f"{where} shows what {_quote(extreme.line)} computes: a minimum or maximum, or"
                " the largest or first values (single individuals' values)",
            )
        )
    if quantile is not None:
        results.append(
            flagged(
                "statistic.quantiles",
                Status.REVIEW,
                f"{where} shows what {_quote(quantile.line)} computes: a median or quantile,"
                " over a number of units the output does not show",
            )
        )
    values = _first(found, Computes.VALUES)
    distinct = _first(found, Computes.DISTINCT)
    if distinct is not None and values is None:
        decimals = any("." in n or "e" in n.lower() for n in numbers)
        different = set(numbers)
        years = all(_YEAR.fullmatch(n) for n in different)
        measure = any(MEASURE_NAME.search(name) for name in distinct.names)
        if decimals or measure or (len(different) >= MANY_DISTINCT and not years):
            values = distinct
    if values is not None:
        results.append(
            flagged(
                "row_level",
                Status.FAIL,
                f"{where} lists individuals' values (from {_quote(values.line)}): row-level data",
            )
        )
    return resolve(results)
