"""One pass over the rows: per-cell units, totals and largest contributions.

Everything the checker needs for a frequency or magnitude table is computed here with
integer cell codes and ``numpy.bincount``, in time linear in the rows: this is what keeps
the safe helpers as fast as the pandas calls they mirror.

Without ``unit``, each row is a unit (ACRO's semantics). With ``unit``, counts are distinct
units per cell and a unit's contributions to a cell are summed before dominance and p%.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
TOP_K = 2


@dataclass(frozen=True)
class Axis:
    """The categories along one axis of the table, and each row's position on it."""

    index: pd.Index
    codes: IntArray  # per input row; -1 where a key is missing

    @property
    def size(self) -> int:
        return len(self.index)


def _axis(arrays: Sequence[pd.Series], prefix: str) -> Axis:
    """Sorted categories of one or several keys, like ``pandas.crosstab``'s axes."""
    if len(arrays) == 1:
        series = arrays[0]
        codes, uniques = pd.factorize(series, sort=True, use_na_sentinel=True)
        name = series.name if series.name is not None else f"{prefix}_0"
        return Axis(pd.Index(uniques, name=name), np.asarray(codes, dtype=np.int64))
    parts = [pd.factorize(s, sort=True, use_na_sentinel=True) for s in arrays]
    sizes = [max(len(uniques), 1) for _, uniques in parts]
    missing = np.zeros(len(arrays[0]), dtype=bool)
    for codes, _ in parts:
        missing |= codes < 0
    combined = np.ravel_multi_index(
        [np.where(missing, 0, codes) for codes, _ in parts], sizes
    ).astype(np.int64)
    observed, inverse = np.unique(combined[~missing], return_inverse=True)
    codes = np.full(len(combined), -1, dtype=np.int64)
    codes[~missing] = inverse
    levels = np.unravel_index(observed, sizes)
    names = [s.name if s.name is not None else f"{prefix}_{i}" for i, s in enumerate(arrays)]
    index = pd.MultiIndex.from_arrays(
        [uniques.take(level) for (_, uniques), level in zip(parts, levels, strict=True)],
        names=names,
    )
    return Axis(index, codes)


@dataclass(frozen=True)
class Cells:
    """Per-cell statistics of an R x C table, C-ordered ``(R, C)`` arrays."""

    rows: Axis
    columns: Axis
    n_rows: IntArray  # input rows per cell
    n_values: IntArray | None  # non-missing values per cell (pandas' count of values)
    units: IntArray  # distinct units per cell
    totals: FloatArray | None  # sum of values (NaN skipped)
    top: FloatArray | None  # (R, C, TOP_K) largest unit contributions, descending, 0 if absent
    negative: NDArray[np.bool_] | None
    missing: NDArray[np.bool_] | None


def _top2(cell: IntArray, contrib: FloatArray, size: int) -> FloatArray:
    """Largest and second largest contribution per cell (ties counted twice)."""
    first = np.full(size, -np.inf)
    np.maximum.at(first, cell, contrib)
    is_first = contrib == first[cell]
    ties = np.bincount(cell, weights=is_first.astype(np.float64), minlength=size)
    second = np.full(size, -np.inf)
    np.maximum.at(second, cell, np.where(is_first, -np.inf, contrib))
    second = np.where(ties >= 2, first, second)
    top = np.stack([first, second], axis=1)
    top[np.isinf(top)] = 0.0
    return top


def aggregate(
    index: Sequence[pd.Series],
    columns: Sequence[pd.Series],
    *,
    values: pd.Series | None = None,
    unit: pd.Series | None = None,
) -> Cells:
    rows, cols = _axis(index, "row"), _axis(columns, "col")
    keep = (rows.codes >= 0) & (cols.codes >= 0)
    shape = (rows.size, cols.size)
    size = rows.size * cols.size
    cell = (rows.codes * cols.size + cols.codes)[keep]
    n_rows = np.bincount(cell, minlength=size)
    unit_codes = None
    if unit is not None:
        unit_codes = np.asarray(pd.factorize(unit, use_na_sentinel=True)[0], dtype=np.int64)[keep]
        known = unit_codes >= 0
        pairs = cell[known] * (int(unit_codes.max(initial=0)) + 1) + unit_codes[known]
        pair_codes, unique_pairs = pd.factorize(pairs)
        pair_cell = unique_pairs // (int(unit_codes.max(initial=0)) + 1)
        units = np.bincount(pair_cell, minlength=size)
    else:
        units = n_rows
    totals: FloatArray | None = None
    top: FloatArray | None = None
    negative: NDArray[np.bool_] | None = None
    missing: NDArray[np.bool_] | None = None
    n_values: IntArray | None = None
    if values is not None:
        v: FloatArray = np.asarray(values, dtype=np.float64)[keep]
        nan = np.isnan(v)
        missing_count = np.bincount(cell[nan], minlength=size)
        missing = (missing_count > 0).reshape(shape)
        n_values = (n_rows - missing_count).reshape(shape)
        v = np.where(nan, 0.0, v)
        contrib: FloatArray = v
        contrib_cell: IntArray = cell
        if unit_codes is not None:
            known = unit_codes >= 0
            contrib = np.bincount(pair_codes, weights=v[known], minlength=len(unique_pairs)).astype(
                np.float64
            )
            contrib_cell = pair_cell
        totals = np.bincount(cell, weights=v, minlength=size).astype(np.float64).reshape(shape)
        negative = (np.bincount(contrib_cell[contrib < 0], minlength=size) > 0).reshape(shape)
        top = _top2(contrib_cell, contrib, size).reshape((*shape, TOP_K))
    return Cells(
        rows=rows,
        columns=cols,
        n_rows=n_rows.reshape(shape),
        n_values=n_values,
        units=units.reshape(shape),
        totals=totals,
        top=top,
        negative=negative,
        missing=missing,
    )


def line_units(
    index: Sequence[pd.Series],
    columns: Sequence[pd.Series],
    cells: Cells,
    *,
    unit: pd.Series | None,
) -> tuple[IntArray, IntArray, int]:
    """Distinct units per row, per column and overall: the margins' unit counts."""
    keep = (cells.rows.codes >= 0) & (cells.columns.codes >= 0)
    rows, cols = cells.rows.codes[keep], cells.columns.codes[keep]
    if unit is None:
        return (
            np.bincount(rows, minlength=cells.rows.size),
            np.bincount(cols, minlength=cells.columns.size),
            int(keep.sum()),
        )
    codes = np.asarray(pd.factorize(unit, use_na_sentinel=True)[0], dtype=np.int64)[keep]
    known = codes >= 0
    width = int(codes.max(initial=0)) + 1

    def distinct(axis_codes: IntArray, size: int) -> IntArray:
        pairs = pd.unique(axis_codes[known] * width + codes[known])
        return np.bincount(pairs // width, minlength=size)

    return (
        distinct(rows, cells.rows.size),
        distinct(cols, cells.columns.size),
        len(pd.unique(codes[known])),
    )
