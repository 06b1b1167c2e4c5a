"""Evidence sidecars: what the researcher-side helpers assert about an output.

``<name>.evidence.json`` sits beside ``<name>.csv``. It carries, per cell, the number of
distinct units and, for magnitude statistics, the total and largest contributions; for
models the residual degrees of freedom; for histograms the bins. It is the contract between
the workspace and the checker, documented in ``docs/evidence.md``.

It is itself disclosive (it holds individual contributions), so it feeds the check and is
shown to reviewers but never released. And since the researcher could edit it, the checker
cross-checks it against the table and labels its findings "researcher-asserted".
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from agoria_tre.disclosure.readers.table import Table

EVIDENCE_SCHEMA = "urn:agoria-tre:evidence:1"
KINDS = ("frequency", "magnitude", "model", "histogram", "survival")
# What each kind must carry: a sidecar can add evidence, never remove a check.
REQUIRED = {
    "frequency": ("units",),
    "magnitude": ("units", "totals", "top"),
    "model": ("model",),
    "histogram": ("units", "histogram"),
    "survival": ("units",),
}
TABLE_KINDS = ("frequency", "magnitude", "histogram", "survival")
CHECKED_STATISTICS = ("count", "sum", "mean")
SUFFIX = ".evidence.json"


class EvidenceError(ValueError):
    """The sidecar is malformed or contradicts its table; the message says how."""


@dataclass(frozen=True)
class Evidence:
    kind: str
    statistic: str
    unit: str | None
    label_columns: int | None
    units: NDArray[np.float64] | None
    totals: NDArray[np.float64] | None
    top: NDArray[np.float64] | None
    negative: NDArray[np.bool_] | None
    missing: NDArray[np.bool_] | None
    model: dict[str, Any] | None
    histogram: dict[str, Any] | None
    n_values: NDArray[np.float64] | None = None  # non-missing values per cell (for means)


def _matrix(data: dict[str, Any], key: str, dims: int) -> NDArray[np.float64] | None:
    value = data.get(key)
    if value is None:
        return None
    try:
        array = np.array(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise EvidenceError(f"'{key}' must be a matrix of numbers") from None
    if array.ndim != dims:
        raise EvidenceError(f"'{key}' must have {dims} dimensions, has {array.ndim}")
    if not np.isfinite(array).all():
        raise EvidenceError(f"'{key}' holds a value that is not a finite number")
    return array


def _mask(data: dict[str, Any], key: str) -> NDArray[np.bool_] | None:
    value = data.get(key)
    if value is None:
        return None
    array = np.array(value)
    if array.ndim != 2 or array.dtype != np.bool_:
        raise EvidenceError(f"'{key}' must be a matrix of true/false")
    return array


def parse_evidence(raw: bytes) -> Evidence:
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise EvidenceError(f"not valid JSON ({exc.__class__.__name__})") from None
    if not isinstance(data, dict):
        raise EvidenceError("must be a JSON object")
    if data.get("schema") != EVIDENCE_SCHEMA:
        raise EvidenceError(f"unknown schema {data.get('schema')!r}, expected {EVIDENCE_SCHEMA}")
    kind = data.get("kind")
    if kind not in KINDS:
        raise EvidenceError(f"unknown kind {kind!r}")
    label_columns = data.get("label_columns")
    if label_columns is not None and (
        isinstance(label_columns, bool) or not isinstance(label_columns, int) or label_columns < 0
    ):
        raise EvidenceError("'label_columns' must be a whole number")
    model, histogram = data.get("model"), data.get("histogram")
    if model is not None and not isinstance(model, dict):
        raise EvidenceError("'model' must be an object")
    if histogram is not None and not isinstance(histogram, dict):
        raise EvidenceError("'histogram' must be an object")
    evidence = Evidence(
        kind=kind,
        statistic=str(data.get("statistic", "count")),
        unit=data.get("unit") if isinstance(data.get("unit"), str) else None,
        label_columns=label_columns,
        units=_matrix(data, "units", 2),
        totals=_matrix(data, "totals", 2),
        top=_matrix(data, "top", 3),
        negative=_mask(data, "negative"),
        missing=_mask(data, "missing"),
        model=model,
        histogram=histogram,
        n_values=_matrix(data, "n_values", 2),
    )
    missing_keys = [key for key in REQUIRED[kind] if getattr(evidence, key) is None]
    if missing_keys:
        raise EvidenceError(f"a {kind} sidecar needs {', '.join(missing_keys)}")
    if evidence.top is not None and evidence.top.shape[2] < 2:
        raise EvidenceError("'top' must list at least the two largest contributions per cell")
    return evidence


def _close(shown: float, expected: float) -> bool:
    """Equal up to the rounding a printed table may carry."""
    return math.isclose(shown, expected, rel_tol=1e-3, abs_tol=0.51e-2) or (
        abs(shown - expected) <= 0.5 and float(shown).is_integer()
    )


def cross_check(evidence: Evidence, table: Table) -> list[str]:
    """Contradictions between the sidecar and the table it describes (empty: consistent)."""
    problems: list[str] = []
    shape = table.shape
    if evidence.kind not in TABLE_KINDS:
        return [f"a {evidence.kind} sidecar cannot describe a table"]
    if shape[1] == 0:
        return ["the sidecar leaves no data column in the table"]
    for name in ("units", "totals", "negative", "missing"):
        array = getattr(evidence, name)
        if array is not None and array.shape != shape:
            problems.append(
                f"'{name}' is {array.shape[0]}x{array.shape[1]}, the table {shape[0]}x{shape[1]}"
            )
    if evidence.top is not None and evidence.top.shape[:2] != shape:
        problems.append("'top' does not match the table's shape")
    if problems:
        return problems
    shown = table.values
    visible = ~np.isnan(shown)
    units = evidence.units
    if units is not None and (np.any(units < 0) or np.any(units != np.round(units))):
        problems.append("unit counts must be whole and non-negative")
    statistic = evidence.statistic.split(",")[0].strip()
    if evidence.kind == "frequency" and units is not None and statistic != "count":
        problems.append(f"a frequency table's statistic must be a count, not {statistic!r}")
    if evidence.kind in ("frequency", "histogram") and units is not None and statistic == "count":
        wrong = visible & (shown != units)
        if wrong.any():
            i, j = (int(x) for x in np.argwhere(wrong)[0])
            problems.append(
                f"cell ({i}, {j}) shows {shown[i, j]:g} but the evidence counts"
                f" {units[i, j]:g} units"
            )
    if evidence.kind == "magnitude":
        totals, top = evidence.totals, evidence.top
        if totals is None or top is None or units is None:
            problems.append("a magnitude table needs 'units', 'totals' and 'top'")
            return problems
        descending = np.all(np.diff(np.nan_to_num(top), axis=2) <= 0)
        if not descending:
            problems.append("'top' contributions must be in descending order")
        nonnegative = evidence.negative is None or not evidence.negative.any()
        if nonnegative and np.any(top[:, :, :2].sum(axis=2) > totals + 1e-9):
            problems.append("the two largest contributions exceed the cell's total")
        if nonnegative and np.any(top < 0):
            problems.append("negative contributions, while 'negative' says there are none")
        if nonnegative and np.any(totals > units * top[:, :, 0] * (1 + 1e-9) + 1e-9):
            problems.append("a total exceeds its units times the largest contribution")
        if nonnegative and np.any((units > 0) & (totals > 0) & (top[:, :, 0] <= 0)):
            problems.append("a cell with a total has no largest contribution")
        counted = evidence.n_values if evidence.n_values is not None else units
        for i, j in zip(*np.nonzero(visible), strict=True):
            value, total, n = shown[i, j], totals[i, j], counted[i, j]
            expected = (
                total if statistic == "sum" else (total / n if statistic == "mean" and n else None)
            )
            if expected is not None and not _close(value, expected):
                problems.append(
                    f"cell ({int(i)}, {int(j)}) shows {value:g} but the evidence implies"
                    f" {expected:g} ({statistic})"
                )
                break
    return problems
