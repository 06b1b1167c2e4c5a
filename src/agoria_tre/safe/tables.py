"""``crosstab`` and ``pivot_table``: pandas' signatures and results, plus the evidence.

Each call returns what pandas returns and writes, into the outputs folder, the table as CSV
and its evidence sidecar, then shows the checker's verdict. Two additions:

``unit=``
    the unit identifiers (a Series for ``crosstab``, a column name for ``pivot_table``):
    counts become distinct units, and a unit's contributions are summed before dominance
    and p%.
``suppress=True``
    cells failing the policy are hidden (NaN), and so are zero cells unless the policy
    passes zeros (a zero is class disclosure a reviewer would be asked about), with the
    secondary suppression needed for them not to be recomputed from the margins.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from agoria_tre.disclosure.policy import Policy
from agoria_tre.disclosure.readers.table import Table, parse_csv
from agoria_tre.disclosure.rules.secondary import suppression_holds
from agoria_tre.disclosure.rules.suppression import choose_secondary
from agoria_tre.disclosure.rules.tables import primary_mask
from agoria_tre.disclosure.status import Status
from agoria_tre.safe.aggregate import TOP_K, Cells, aggregate, line_units
from agoria_tre.safe.outputs import (
    active_policy,
    evidence_document,
    output_name,
    outputs_dir,
    table_csv,
    unit_name,
    write_output,
)

FAST_AGGREGATES = ("sum", "mean", "count")
Array = np.ndarray[Any, Any]


def _same_index(arguments: Sequence[Any]) -> None:
    """pandas aligns Series on their index; these helpers pair rows by position. Refuse,
    rather than count wrongly, Series whose indexes differ."""
    series = [
        item
        for argument in arguments
        for item in (argument if isinstance(argument, list | tuple) else [argument])
        if isinstance(item, pd.Series)
    ]
    if any(not s.index.equals(series[0].index) for s in series[1:]):
        raise ValueError(
            "the Series passed have different indexes: align them first (for example with"
            " reset_index), as these helpers pair rows by position"
        )


def _series_list(value: Any, names: Sequence[str] | None, prefix: str) -> list[pd.Series]:
    arrays = value if isinstance(value, list | tuple) else [value]
    result = []
    for i, array in enumerate(arrays):
        series = array if isinstance(array, pd.Series) else pd.Series(np.asarray(array))
        if names is not None and i < len(names):
            series = series.rename(names[i])
        elif series.name is None:
            series = series.rename(f"{prefix}_{i}")
        result.append(series.reset_index(drop=True))
    return result


def _aggfunc_name(aggfunc: str | Callable[..., Any] | None) -> str:
    """The statistic's name as the checker reads it; a lambda or unnamed callable is
    "custom", which the checker cannot confirm and sends to review."""
    if aggfunc is None:
        return "count"
    if isinstance(aggfunc, str):
        return aggfunc
    name = getattr(aggfunc, "__name__", "")
    return name if name.isidentifier() else "custom"


def _frame(matrix: np.ndarray[Any, Any], cells: Cells) -> pd.DataFrame:
    return pd.DataFrame(matrix, index=cells.rows.index, columns=cells.columns.index)


def _display(cells: Cells, statistic: str, unit_given: bool) -> pd.DataFrame | None:
    """The values pandas would show, computed from the same pass (None: ask pandas)."""
    if statistic == "count" and cells.totals is None:
        return _frame(cells.units if unit_given else cells.n_rows, cells)
    if cells.totals is None or statistic not in FAST_AGGREGATES:
        return None
    empty = cells.n_rows == 0
    if statistic == "sum":
        return _frame(np.where(empty, np.nan, cells.totals), cells)
    if statistic == "mean" and cells.n_values is not None:
        counted = np.where(cells.n_values == 0, np.nan, cells.n_values)
        return _frame(cells.totals / counted, cells)
    return None


def _magnitude(cells: Cells) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    if cells.totals is None or cells.top is None:
        raise RuntimeError("a magnitude table's margins need its values")
    return cells.totals, cells.top


def _values_counted(cells: Cells) -> np.ndarray[Any, Any]:
    return cells.n_values if cells.n_values is not None else cells.n_rows


def _counted(cells: Cells) -> np.ndarray[Any, Any]:
    counts = cells.n_values if cells.n_values is not None else cells.n_rows
    return np.where(counts == 0, np.nan, counts)


def _with_margins(
    table: pd.DataFrame,
    index: list[pd.Series],
    columns: list[pd.Series],
    values: pd.Series | None,
    unit: pd.Series | None,
    cells: Cells,
    statistic: str,
    margins_name: str,
) -> tuple[pd.DataFrame, Array, Array | None, Array | None, Array | None]:
    """Add pandas-style margins; return the table and the margins' evidence
    (units, totals, top contributions, values counted)."""
    one = [pd.Series(np.zeros(len(index[0]), dtype=np.int8), name="_all")]
    by_row = aggregate(index, one, values=values, unit=unit)
    by_col = aggregate(one, columns, values=values, unit=unit)
    overall = aggregate(one, one, values=values, unit=unit)
    row_units, col_units, all_units = line_units(index, columns, cells, unit=unit)
    units = np.zeros((cells.rows.size + 1, cells.columns.size + 1), dtype=np.int64)
    units[:-1, :-1] = cells.units
    units[:-1, -1], units[-1, :-1], units[-1, -1] = row_units, col_units, all_units
    totals: np.ndarray[Any, Any] | None = None
    top: np.ndarray[Any, Any] | None = None
    if cells.totals is not None and cells.top is not None:
        totals = np.zeros(units.shape)
        top = np.zeros((*units.shape, cells.top.shape[2]))
        totals[:-1, :-1], top[:-1, :-1] = cells.totals, cells.top
        (row_t, row_top), (col_t, col_top), (all_t, all_top) = (
            _magnitude(m) for m in (by_row, by_col, overall)
        )
        width = top.shape[2]
        totals[:-1, -1], totals[-1, :-1], totals[-1, -1] = (
            row_t.reshape(-1),
            col_t.reshape(-1),
            all_t[0, 0],
        )
        top[:-1, -1], top[-1, :-1], top[-1, -1] = (
            row_top.reshape(-1, width),
            col_top.reshape(-1, width),
            all_top[0, 0],
        )
    shown = table.copy()
    row_margin: np.ndarray[Any, Any]
    col_margin: np.ndarray[Any, Any]
    grand: Any
    if statistic == "count" and cells.totals is None:
        row_margin, col_margin, grand = units[:-1, -1], units[-1, :-1], units[-1, -1]
        if unit is None:
            row_margin = table.sum(axis=1).to_numpy()
            col_margin = table.sum(axis=0).to_numpy()
            grand = row_margin.sum()
    elif statistic == "sum" and totals is not None:
        row_margin, col_margin, grand = totals[:-1, -1], totals[-1, :-1], totals[-1, -1]
    elif statistic == "mean" and totals is not None:
        n_row, n_col, n_all = (_counted(m) for m in (by_row, by_col, overall))
        row_margin, col_margin = (
            totals[:-1, -1] / n_row.reshape(-1),
            totals[-1, :-1] / n_col.reshape(-1),
        )
        grand = totals[-1, -1] / n_all[0, 0]
    else:
        raise ValueError(f"margins are supported for count, sum and mean, not {statistic}")
    shown[margins_name] = row_margin
    shown.loc[margins_name] = [*col_margin, grand]
    n_values = None
    if cells.n_values is not None:
        n_values = np.zeros(units.shape)
        n_values[:-1, :-1] = cells.n_values
        n_values[:-1, -1] = _values_counted(by_row).reshape(-1)
        n_values[-1, :-1] = _values_counted(by_col).reshape(-1)
        n_values[-1, -1] = _values_counted(overall)[0, 0]
    return shown, units, totals, top, n_values


def _finish(
    table: pd.DataFrame,
    *,
    kind: str,
    statistic: str,
    unit_name: str | None,
    units: np.ndarray[Any, Any],
    totals: np.ndarray[Any, Any] | None,
    top: np.ndarray[Any, Any] | None,
    negative: np.ndarray[Any, Any] | None,
    missing: np.ndarray[Any, Any] | None,
    n_values: np.ndarray[Any, Any] | None,
    margins: bool,
    suppress: bool,
    policy: Policy,
    stem: str,
    outputs: str | os.PathLike[str] | None,
    fill_value: Any = None,
) -> pd.DataFrame:
    if fill_value is not None:
        table = table.fillna(fill_value)
    if suppress:
        primary = primary_mask(units.astype(float), totals, top, policy)
        if policy.zeros is not Status.PASS:
            primary |= units == 0  # a zero a reviewer would be asked about: hidden too
        if margins:
            interior = choose_secondary(
                units[:-1, :-1].astype(float), primary[:-1, :-1], threshold=policy.threshold
            )
            mask = primary.copy()
            mask[:-1, :-1] = interior
            mask = _protect_margins(table, mask, policy)
        else:
            mask = choose_secondary(
                units.astype(float), primary, threshold=policy.threshold, with_margins=False
            )
        table = table.mask(mask)
    else:
        mask = None
    folder = outputs_dir(outputs)

    def full(array: np.ndarray[Any, Any] | None, fill: object) -> np.ndarray[Any, Any] | None:
        if array is None or array.shape[:2] == table.shape:
            return array
        grown = np.full((*table.shape, *array.shape[2:]), fill, dtype=array.dtype)
        grown[: array.shape[0], : array.shape[1]] = array
        return grown

    evidence = evidence_document(
        output=f"{stem}.csv",
        kind=kind,
        statistic=statistic,
        unit=unit_name,
        label_columns=table.index.nlevels,
        units=units,
        totals=totals,
        top=top,
        negative=full(negative, False),
        missing=full(missing, False),
        n_values=n_values if statistic.startswith("mean") else None,
    )
    write_output(folder, stem, ".csv", table_csv(table, mask), evidence, policy, table=table)
    return table


def _protect_margins(table: pd.DataFrame, mask: Array, policy: Policy) -> Array:
    """A hidden margin can be rebuilt from the grand total and the other margins: hide more,
    step by step, until the checker's own linear programme finds nothing to recompute."""
    if not mask[-1, :].any() and not mask[:, -1].any():
        return mask
    steps = []
    grand = np.zeros(mask.shape, dtype=bool)
    grand[-1, -1] = True
    steps.append(mask | grand)
    lines = mask.copy()
    if mask[-1, :-1].any():
        lines[-1, :] = True
    if mask[:-1, -1].any():
        lines[:, -1] = True
    steps.append(lines | grand)
    everything = mask.copy()
    everything[-1, :] = True
    everything[:, -1] = True
    steps.append(everything)
    for candidate in steps:
        parsed = parse_csv(
            table_csv(table.mask(candidate), candidate),
            policy.limits,
            name="t.csv",
            label_columns=table.index.nlevels,
        )
        if isinstance(parsed, Table) and suppression_holds(parsed, policy):
            return candidate
    return steps[-1]


def _tabulate(
    index: Any,
    columns: Any,
    values: Any = None,
    rownames: Sequence[str] | None = None,
    colnames: Sequence[str] | None = None,
    aggfunc: str | Callable[..., Any] | None = None,
    margins: bool = False,
    margins_name: str = "All",
    dropna: bool = True,
    normalize: bool | str = False,
    *,
    unit: Any = None,
    suppress: bool = False,
    name: str | None = None,
    outputs: str | os.PathLike[str] | None = None,
    policy: Policy | None = None,
    fill_value: Any = None,
) -> pd.DataFrame:
    """The work of ``crosstab`` and ``pivot_table`` (``fill_value`` is pivot_table's: it
    fills empty combinations before the table is written, as pandas fills them)."""
    if (values is None) != (aggfunc is None):
        raise ValueError("values and aggfunc go together, as in pandas.crosstab")
    policy = active_policy(policy)
    _same_index([index, columns, values, unit])
    if values is not None and policy.dominance_n > TOP_K:
        raise ValueError(
            f"policy {policy.name!r} asks for dominance over the largest {policy.dominance_n}"
            f" contributions; these helpers record the largest {TOP_K}"
        )
    rows = _series_list(index, rownames, "row")
    cols = _series_list(columns, colnames, "col")
    value_series = None if values is None else pd.Series(np.asarray(values, dtype=np.float64))
    unit_series = None if unit is None else pd.Series(np.asarray(unit))
    statistic = _aggfunc_name(aggfunc)
    cells = aggregate(rows, cols, values=value_series, unit=unit_series)
    table = _display(cells, statistic, unit_series is not None)
    if table is None:
        table = pd.crosstab(
            rows,
            cols,
            values=value_series,  # type: ignore[arg-type]
            aggfunc=aggfunc,  # type: ignore[arg-type]
            dropna=dropna,
        )
    if dropna and cells.totals is not None:
        table = table.dropna(axis=1, how="all")
    units, totals, top, n_values = cells.units, cells.totals, cells.top, cells.n_values
    if margins:
        table, units, totals, top, n_values = _with_margins(
            table, rows, cols, value_series, unit_series, cells, statistic, margins_name
        )
    if normalize is not False:
        table = _normalised(table, normalize, margins, margins_name)
        statistic = f"{statistic}, normalised"
    kind = "magnitude" if value_series is not None and statistic != "count" else "frequency"
    stem = output_name(
        name,
        "crosstab",
        statistic.split(",")[0] if kind == "magnitude" else None,
        *(s.name for s in rows),
        "by",
        *(s.name for s in cols),
    )
    return _finish(
        table,
        kind=kind,
        statistic=statistic,
        unit_name=unit_name(unit),
        units=units,
        totals=totals,
        top=top,
        negative=cells.negative,
        missing=cells.missing,
        n_values=n_values,
        margins=margins,
        suppress=suppress,
        fill_value=fill_value,
        policy=policy,
        stem=stem,
        outputs=outputs,
    )


def crosstab(
    index: Any,
    columns: Any,
    values: Any = None,
    rownames: Sequence[str] | None = None,
    colnames: Sequence[str] | None = None,
    aggfunc: str | Callable[..., Any] | None = None,
    margins: bool = False,
    margins_name: str = "All",
    dropna: bool = True,
    normalize: bool | str = False,
    *,
    unit: Any = None,
    suppress: bool = False,
    name: str | None = None,
    outputs: str | os.PathLike[str] | None = None,
    policy: Policy | None = None,
) -> pd.DataFrame:
    """``pandas.crosstab``, writing the table and its evidence; see the module docstring."""
    return _tabulate(
        index,
        columns,
        values,
        rownames,
        colnames,
        aggfunc,
        margins,
        margins_name,
        dropna,
        normalize,
        unit=unit,
        suppress=suppress,
        name=name,
        outputs=outputs,
        policy=policy,
    )


def _normalised(
    table: pd.DataFrame, normalize: bool | str, margins: bool, margins_name: str
) -> pd.DataFrame:
    body = table.drop(index=margins_name, columns=margins_name) if margins else table
    if normalize in (True, "all"):
        return table / float(body.to_numpy().sum())
    if normalize in ("index", 0):
        return table.div(table.iloc[:, : body.shape[1]].sum(axis=1), axis=0)
    if normalize in ("columns", 1):
        return table / table.iloc[: body.shape[0]].sum(axis=0)
    raise ValueError(f"normalize must be True, 'all', 'index' or 'columns', not {normalize!r}")


def pivot_table(
    data: pd.DataFrame,
    values: str | None = None,
    index: str | list[str] | None = None,
    columns: str | list[str] | None = None,
    aggfunc: str | Callable[..., Any] = "mean",
    fill_value: Any = None,
    margins: bool = False,
    dropna: bool = True,
    margins_name: str = "All",
    observed: bool = True,
    sort: bool = True,
    *,
    unit: str | None = None,
    suppress: bool = False,
    name: str | None = None,
    outputs: str | os.PathLike[str] | None = None,
    policy: Policy | None = None,
) -> pd.DataFrame:
    """``pandas.DataFrame.pivot_table`` for one value column, index and columns; see the
    module docstring. ``unit`` names the column of unit identifiers."""
    if values is None or index is None or columns is None:
        raise ValueError("pivot_table here needs values, index and columns")
    index_names = [index] if isinstance(index, str) else list(index)
    column_names = [columns] if isinstance(columns, str) else list(columns)
    return _tabulate(
        [data[c] for c in index_names],
        [data[c] for c in column_names],
        values=data[values].rename(values),
        aggfunc=aggfunc,
        margins=margins,
        margins_name=margins_name,
        dropna=dropna,
        unit=data[unit].rename(unit) if unit is not None else None,
        suppress=suppress,
        name=name
        or output_name(
            None, "pivot", _aggfunc_name(aggfunc), values, "by", *index_names, "by", *column_names
        ),
        outputs=outputs,
        policy=policy,
        fill_value=fill_value,
    )
