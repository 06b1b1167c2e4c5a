"""Disclosure policy: thresholds and rules as data, loaded from YAML into a frozen dataclass.

Named profiles ship with the package (``fr``, the default, and ``uk``, ACRO 1.0.2's
semantics); an operator may supply their own file. Unknown or missing keys, wrong types and
out-of-range values are refused with a message that names the key.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from agoria_tre.disclosure.status import Status
from agoria_tre.errors import InvalidInput

PROFILES = ("fr", "uk")
DEFAULT_PROFILE = "fr"


@dataclass(frozen=True)
class Limits:
    """Sizes past which an item is refused before it is parsed."""

    max_bytes: int
    max_rows: int
    max_columns: int
    max_cells: int
    max_html_cells: int  # an HTML page's cells: larger tables are released as CSV
    max_depth: int
    max_outputs: int
    max_pixels: int


@dataclass(frozen=True)
class Policy:
    name: str
    description: str
    threshold: int
    zeros: Status
    class_disclosure: Status
    dominance_n: int
    dominance_k: float
    p_percent: float
    min_dof: int
    negative_values: Status
    missing_values: Status
    limits: Limits

    def as_dict(self) -> dict[str, Any]:
        """The policy as reports record it: every value the rules applied."""
        data = asdict(self)
        for key, value in data.items():
            if isinstance(value, Status):
                data[key] = value.value
        return data


_TOP_KEYS = {
    "name",
    "description",
    "threshold",
    "zeros",
    "class_disclosure",
    "dominance",
    "p_percent",
    "min_dof",
    "negative_values",
    "missing_values",
    "limits",
}
_LIMIT_KEYS = {f.name for f in fields(Limits)}


def _fail(source: str, message: str) -> InvalidInput:
    return InvalidInput(f"disclosure policy {source}: {message}")


def _int(source: str, key: str, value: object, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise _fail(source, f"{key} must be a whole number >= {minimum}, got {value!r}")
    return value


def _fraction(source: str, key: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 1:
        raise _fail(source, f"{key} must be a number in (0, 1], got {value!r}")
    return float(value)


def _status(source: str, key: str, value: object) -> Status:
    try:
        return Status(value)
    except ValueError:
        raise _fail(source, f"{key} must be one of pass, review, fail; got {value!r}") from None


def _mapping(source: str, key: str, value: object, expected: set[str]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _fail(source, f"{key} must be a mapping")
    unknown = set(value) - expected
    missing = expected - set(value)
    if unknown:
        raise _fail(source, f"unknown key(s) {', '.join(sorted(map(str, unknown)))} in {key}")
    if missing:
        raise _fail(source, f"missing key(s) {', '.join(sorted(missing))} in {key}")
    return value


def policy_from_mapping(data: object, source: str) -> Policy:
    top = _mapping(source, "the policy", data, _TOP_KEYS)
    dominance = _mapping(source, "dominance", top["dominance"], {"n", "k"})
    limits = _mapping(source, "limits", top["limits"], _LIMIT_KEYS)
    name, description = top["name"], top["description"]
    if not isinstance(name, str) or not name.strip():
        raise _fail(source, "name must be a non-empty text")
    if not isinstance(description, str):
        raise _fail(source, "description must be a text")
    return Policy(
        name=name.strip(),
        description=" ".join(description.split()),
        threshold=_int(source, "threshold", top["threshold"], 1),
        zeros=_status(source, "zeros", top["zeros"]),
        class_disclosure=_status(source, "class_disclosure", top["class_disclosure"]),
        dominance_n=_int(source, "dominance.n", dominance["n"], 1),
        dominance_k=_fraction(source, "dominance.k", dominance["k"]),
        p_percent=_fraction(source, "p_percent", top["p_percent"]),
        min_dof=_int(source, "min_dof", top["min_dof"], 1),
        negative_values=_status(source, "negative_values", top["negative_values"]),
        missing_values=_status(source, "missing_values", top["missing_values"]),
        limits=Limits(**{key: _int(source, f"limits.{key}", limits[key], 1) for key in limits}),
    )


def _parse(text: str, source: str) -> Policy:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise _fail(source, f"not valid YAML ({exc.__class__.__name__})") from None
    return policy_from_mapping(data, source)


def load_profile(name: str = DEFAULT_PROFILE) -> Policy:
    """One of the profiles shipped with the platform."""
    if name not in PROFILES:
        raise InvalidInput(f"unknown disclosure profile {name!r}: choose {' or '.join(PROFILES)}")
    text = resources.files("agoria_tre.disclosure").joinpath(f"profiles/{name}.yaml").read_text()
    return _parse(text, f"profile {name}")


def load_policy_file(path: Path) -> Policy:
    """An operator's own policy file."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeError) as exc:
        raise InvalidInput(f"cannot read disclosure policy {path}: {exc}") from None
    return _parse(text, str(path))
