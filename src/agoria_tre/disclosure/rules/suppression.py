"""Secondary suppression: can a hidden cell be recomputed from the totals around it?

Hiding a small count is pointless if the row total minus the visible cells of the row gives
it back. With margins published, every hidden cell lies in a *feasible range*: the values it
can take while every published total still adds up and every cell stays within what is known
of it (counts are never negative; a cell shown as ``<11`` lies in 1 to 10). The range is
computed exactly by linear programming, minimising and maximising each hidden cell over the
table's additive constraints. A cell is protected when its range is at least as wide as the
policy's threshold: a narrower range tells an intruder the count to within fewer units than
the threshold allows.

Three entry points:

- :func:`feasible_ranges`: the ranges themselves (the arithmetic, no policy);
- :func:`check_secondary_suppression`: the rule the checker applies to a released table;
- :func:`choose_secondary`: which further cells to hide so that the rule passes, for the
  researcher-side helpers (``suppress=True``).

Positions in :class:`~agoria_tre.disclosure.report.RuleResult` cells are 0-based; the plain
language summaries count rows and columns from 1, as a reader of the table does.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from agoria_tre.disclosure.policy import Policy
from agoria_tre.disclosure.report import Cell, RuleResult, flagged, passed
from agoria_tre.disclosure.status import Status
from agoria_tre.errors import InvalidInput

RULE = "secondary_suppression"

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
IntArray = NDArray[np.intp]

# HiGHS works to a feasibility tolerance of about 1e-7; anything closer than this (scaled by
# the size of the table's numbers) is the same number.
_RELATIVE_TOLERANCE = 1e-9
_SNAP = 1e-7


class InconsistentTable(InvalidInput):
    """The published totals cannot all hold with the visible cells and the known bounds.

    Such a table is not a disclosure verdict but a question for a person (a rounded margin,
    a total over a different population, a typing error), so the rule reports ``review``.
    ``margins`` names the totals involved, e.g. ``("the row 2 total",)``.
    """

    def __init__(self, message: str, margins: tuple[str, ...]) -> None:
        super().__init__(message)
        self.margins = margins


# --------------------------------------------------------------------------------------
# The linear programme
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Equation:
    """``sum(coefficients[v] * x[v]) == rhs``: one published (or bounded unknown) total.

    ``total`` is the published value, or None when the margin is itself an unknown variable
    (``margin_var``) with bounds. ``visible`` is the sum of the visible cells it covers.
    """

    name: str
    variables: tuple[int, ...]
    coefficients: tuple[float, ...]
    rhs: float
    total: float | None
    visible: float
    margin_var: int | None


@dataclass(frozen=True)
class _Problem:
    cells: tuple[Cell, ...]  # the suppressed interior cells, row-major: variables 0..k-1
    lower: FloatArray  # bounds of every variable (cells, then unknown margins)
    upper: FloatArray
    equations: tuple[_Equation, ...]
    tolerance: float


def _number(value: float) -> str:
    """A value as a reader expects it: integers without a decimal point."""
    if math.isinf(value):
        return "infinity" if value > 0 else "minus infinity"
    rounded = round(value)
    if abs(value - rounded) <= _SNAP * max(1.0, abs(value)):
        return str(int(rounded))
    return f"{value:.6g}"


def _join(names: list[str]) -> str:
    if len(names) == 1:
        return names[0]
    return ", ".join(names[:-1]) + " and " + names[-1]


def _as_float_array(name: str, value: object, shape: tuple[int, ...]) -> FloatArray:
    array = np.asarray(value, dtype=np.float64)
    if array.shape != shape:
        raise ValueError(f"{name} must have shape {shape}, got {array.shape}")
    return array


def _clean_bounds(
    bounds: FloatArray | None, shape: tuple[int, int]
) -> tuple[FloatArray, FloatArray, FloatArray | None]:
    """Interior lower/upper bounds (defaults 0 and infinity) and the margins' part, if any.

    ``bounds`` is (R, C, 2) for the interior cells, or (R + 1, C + 1, 2) with the bounds of
    unknown row totals in column C, of unknown column totals in row R and of an unknown grand
    total at [R, C]. NaN means "nothing known beyond the default".
    """
    rows, cols = shape
    if bounds is None:
        return np.zeros(shape), np.full(shape, np.inf), None
    array = np.asarray(bounds, dtype=np.float64)
    if array.shape not in ((rows, cols, 2), (rows + 1, cols + 1, 2)):
        raise ValueError(
            f"bounds must have shape {(rows, cols, 2)} or {(rows + 1, cols + 1, 2)},"
            f" got {array.shape}"
        )
    lower = np.where(np.isnan(array[..., 0]), 0.0, array[..., 0])
    upper = np.where(np.isnan(array[..., 1]), np.inf, array[..., 1])
    bad = np.argwhere(lower > upper)
    if bad.size:
        i, j = (int(v) for v in bad[0])
        raise ValueError(f"bounds at [{i}, {j}]: lower {lower[i, j]} > upper {upper[i, j]}")
    margins = array if array.shape[0] == rows + 1 else None
    return lower[:rows, :cols], upper[:rows, :cols], margins


def _build(
    values: FloatArray,
    suppressed: BoolArray,
    row_totals: FloatArray | None,
    col_totals: FloatArray | None,
    grand_total: float | None,
    bounds: FloatArray | None,
) -> _Problem:
    """The table's constraints, over the suppressed cells and the bounded unknown margins."""
    if values.ndim != 2:
        raise ValueError(f"values must be a 2-D array, got {values.ndim} dimension(s)")
    shape = (values.shape[0], values.shape[1])
    if suppressed.shape != shape:
        raise ValueError(f"suppressed must have shape {shape}, got {suppressed.shape}")
    missing = np.argwhere(~suppressed & ~np.isfinite(values))
    if missing.size:
        i, j = (int(v) + 1 for v in missing[0])
        raise ValueError(f"cell (row {i}, column {j}) is neither suppressed nor a finite number")
    if grand_total is not None and math.isinf(grand_total):
        raise ValueError("grand_total must be finite, NaN (unknown) or None")
    for name, margin in (("row_totals", row_totals), ("col_totals", col_totals)):
        if margin is not None and np.isinf(margin).any():
            raise ValueError(f"{name} must be finite or NaN (unknown)")

    lower_cells, upper_cells, margin_bounds = _clean_bounds(bounds, shape)
    positions = np.argwhere(suppressed)
    cells: tuple[Cell, ...] = tuple((int(i), int(j)) for i, j in positions)
    index = np.full(shape, -1, dtype=np.intp)
    index[suppressed] = np.arange(len(cells))
    lower = [float(lower_cells[c]) for c in cells]
    upper = [float(upper_cells[c]) for c in cells]
    visible = np.where(suppressed, 0.0, values)
    finite = [abs(v) for v in values[~suppressed]]
    for margin in (row_totals, col_totals):
        if margin is not None:
            finite.extend(abs(float(v)) for v in margin if not math.isnan(v))
    if grand_total is not None and not math.isnan(grand_total):
        finite.append(abs(grand_total))
    tolerance = _RELATIVE_TOLERANCE * max([1.0, *finite]) + 1e-9

    equations: list[_Equation] = []

    def add_margin(name: str, total: float, members: IntArray, seen: float, at: Cell) -> None:
        variables = tuple(int(v) for v in members)
        if not math.isnan(total):
            equations.append(
                _Equation(name, variables, (1.0,) * len(variables), total - seen, total, seen, None)
            )
            return
        # An unknown total tells nothing unless something bounds it ("<11" in the margin):
        # t = sum of its cells, and t is free otherwise, so the constraint would be empty.
        if margin_bounds is None or np.isnan(margin_bounds[at]).all():
            return
        low, high = margin_bounds[at]
        variable = len(lower)
        lower.append(0.0 if math.isnan(low) else float(low))
        upper.append(math.inf if math.isnan(high) else float(high))
        equations.append(
            _Equation(
                name,
                (*variables, variable),
                (1.0,) * len(variables) + (-1.0,),
                -seen,
                None,
                seen,
                variable,
            )
        )

    rows, cols = shape
    if row_totals is not None:
        for i in range(rows):
            members = index[i][suppressed[i]]
            add_margin(
                f"the row {i + 1} total",
                float(row_totals[i]),
                members,
                float(visible[i].sum()),
                (i, cols),
            )
    if col_totals is not None:
        for j in range(cols):
            members = index[:, j][suppressed[:, j]]
            seen = float(visible[:, j].sum())
            add_margin(f"the column {j + 1} total", float(col_totals[j]), members, seen, (rows, j))

    problem = _Problem(cells, np.array(lower), np.array(upper), tuple(equations), tolerance)
    for equation in equations:
        _check_alone(problem, equation)

    if grand_total is not None:
        redundant = False
        for kind, margin_values in (("row", row_totals), ("column", col_totals)):
            if margin_values is None or np.isnan(margin_values).any() or math.isnan(grand_total):
                continue
            # Every line total is published: they already add up to the grand total, which
            # then adds no constraint but must agree with them. Dropping it lets the lines
            # split into independent, much smaller programmes.
            added = float(np.sum(margin_values))
            if abs(added - grand_total) > tolerance * max(1, margin_values.size):
                raise InconsistentTable(
                    f"the grand total is {_number(grand_total)} but the {kind} totals add up to"
                    f" {_number(added)}",
                    ("the grand total",),
                )
            redundant = True
        if not redundant:
            before = len(equations)
            add_margin(
                "the grand total",
                grand_total,
                np.arange(len(cells), dtype=np.intp),
                float(visible.sum()),
                (rows, cols),
            )
            if len(equations) > before:
                problem = _Problem(
                    cells, np.array(lower), np.array(upper), tuple(equations), tolerance
                )
                _check_alone(problem, equations[-1])
    return problem


def _check_alone(problem: _Problem, equation: _Equation) -> None:
    """Refuse a total that cannot hold even on its own, with a message naming it."""
    low = high = 0.0
    for variable, coefficient in zip(equation.variables, equation.coefficients, strict=True):
        if variable == equation.margin_var:
            continue
        low += coefficient * problem.lower[variable]
        high += coefficient * problem.upper[variable]
    cells_low, cells_high = equation.visible + low, equation.visible + high
    if equation.total is not None:
        target_low = target_high = equation.total
        shown = f"is {_number(equation.total)}"
    else:
        assert equation.margin_var is not None  # noqa: S101 - an unknown total is a variable
        target_low = float(problem.lower[equation.margin_var])
        target_high = float(problem.upper[equation.margin_var])
        if math.isinf(target_high):
            shown = f"is at least {_number(target_low)}"
        else:
            shown = f"lies between {_number(target_low)} and {_number(target_high)}"
    slack = problem.tolerance * max(1, len(equation.variables))
    if cells_low - slack <= target_high and target_low <= cells_high + slack:
        return
    if cells_low == cells_high:
        added = f"add up to {_number(cells_low)}"
    elif cells_low > target_high:
        added = f"add up to at least {_number(cells_low)}"
    else:
        added = f"add up to at most {_number(cells_high)}"
    raise InconsistentTable(f"{equation.name} {shown} but its cells {added}", (equation.name,))


def _components(problem: _Problem) -> list[tuple[list[int], list[_Equation]]]:
    """Groups of variables linked by some equation, each with its equations.

    Each group is an independent linear programme; a table whose suppressed cells fall in
    separate blocks is solved block by block.
    """
    parent = list(range(len(problem.lower)))

    def find(v: int) -> int:
        while parent[v] != v:
            parent[v] = parent[parent[v]]
            v = parent[v]
        return v

    for equation in problem.equations:
        if equation.variables:
            root = find(equation.variables[0])
            for v in equation.variables[1:]:
                other = find(v)
                if other != root:
                    parent[other] = root
    groups: dict[int, list[int]] = {}
    for v in range(len(parent)):
        groups.setdefault(find(v), []).append(v)
    by_root: dict[int, list[_Equation]] = {}
    for equation in problem.equations:
        if equation.variables:
            by_root.setdefault(find(equation.variables[0]), []).append(equation)
    return [(members, by_root.get(root, [])) for root, members in sorted(groups.items())]


@dataclass
class _Programme:
    """One component's linear programme, solved as often as asked."""

    variables: list[int]
    a_eq: FloatArray
    b_eq: FloatArray
    bounds: FloatArray
    limits: list[tuple[float | None, float | None]]  # the bounds as linprog wants them

    @classmethod
    def of(cls, problem: _Problem, variables: list[int], equations: list[_Equation]) -> _Programme:
        local = {v: n for n, v in enumerate(variables)}
        a_eq = np.zeros((len(equations), len(variables)))
        for row, equation in enumerate(equations):
            for v, coefficient in zip(equation.variables, equation.coefficients, strict=True):
                a_eq[row, local[v]] = coefficient
        b_eq = np.array([e.rhs for e in equations], dtype=np.float64)
        bounds = np.column_stack([problem.lower[variables], problem.upper[variables]])
        limits = [
            (None if math.isinf(low) else float(low), None if math.isinf(high) else float(high))
            for low, high in bounds
        ]
        return cls(variables, a_eq, b_eq, bounds, limits)

    def solve(
        self, objective: FloatArray, keep: list[int] | None = None
    ) -> tuple[int, float, FloatArray | None]:
        """(status, objective value, solution): status 0 optimal, 2 infeasible, 3 unbounded."""
        a_eq, b_eq = (self.a_eq, self.b_eq) if keep is None else (self.a_eq[keep], self.b_eq[keep])
        if not len(b_eq):
            a_eq, b_eq = np.zeros((1, len(self.variables))), np.zeros(1)
        # scipy.optimize takes 0.4 s to import: only a table with hidden cells pays for it
        from scipy.optimize import linprog

        result = linprog(objective, A_eq=a_eq, b_eq=b_eq, bounds=self.limits, method="highs")
        if result.status not in (0, 2, 3):
            raise RuntimeError(f"linear programming failed: {result.message}")
        x = None if result.x is None else np.asarray(result.x, dtype=np.float64)
        fun = math.nan if result.fun is None else float(result.fun)
        return int(result.status), fun, x


def _inconsistency(programme: _Programme, equations: list[_Equation]) -> InconsistentTable:
    """Name a smallest set of totals that cannot hold together (a deletion filter).

    Each total is dropped in turn; if the rest is still infeasible it is left out for good.
    What remains is an irreducible set: remove any one of them and the table adds up.
    """
    zero = np.zeros(len(programme.variables))
    keep = list(range(len(equations)))
    for candidate in list(keep):
        trial = [e for e in keep if e != candidate]
        if programme.solve(zero, trial)[0] == 2:
            keep = trial
    names = [equations[e].name for e in keep]
    verb = "both" if len(names) == 2 else "all"
    if len(names) == 1:
        message = f"{names[0]} cannot hold with the visible cells"
    else:
        message = f"{_join(names)} cannot {verb} hold with the visible cells"
    return InconsistentTable(message, tuple(names))


def _snap(value: float) -> float:
    rounded = round(value) if math.isfinite(value) else value
    if math.isfinite(value) and abs(value - rounded) <= _SNAP * max(1.0, abs(value)):
        return float(rounded)
    return value


def _solve(problem: _Problem, needed: FloatArray | None = None) -> FloatArray:
    """[min, max] of every suppressed cell, shape (k, 2).

    With ``needed`` (one width per cell), a cell whose range is shown to be at least that
    wide by the solutions found so far is not solved further: its row then holds an inner
    approximation of the range, enough to say "wide enough" and much cheaper.
    """
    k = len(problem.cells)
    ranges = np.full((k, 2), np.nan)
    for variables, equations in _components(problem):
        targets = [n for n, v in enumerate(variables) if v < k]
        if not targets:
            continue
        if not equations:
            for n in targets:
                v = variables[n]
                ranges[v] = (problem.lower[v], problem.upper[v])
            continue
        programme = _Programme.of(problem, variables, equations)
        size = len(variables)
        status, _, x = programme.solve(np.zeros(size))
        if status == 2:
            raise _inconsistency(programme, equations)
        if x is None:  # pragma: no cover - HiGHS returns a point for a feasible zero objective
            raise RuntimeError("linear programming returned no feasible point")
        seen_low, seen_high = x.copy(), x.copy()
        low_bound, high_bound = programme.bounds[:, 0], programme.bounds[:, 1]
        tolerance = problem.tolerance * max(1, size)
        for n in targets:
            need = math.inf if needed is None else float(needed[variables[n]])
            objective = np.zeros(size)
            if seen_high[n] - seen_low[n] >= need:
                ranges[variables[n]] = (seen_low[n], seen_high[n])
                continue
            # The maximum: known when some feasible point already reaches the upper bound.
            if seen_high[n] >= high_bound[n] - tolerance:
                high = float(high_bound[n])
            else:
                objective[n] = -1.0
                status, fun, x = programme.solve(objective)
                high = math.inf if status == 3 else -fun
                if x is not None:
                    np.minimum(seen_low, x, out=seen_low)
                    np.maximum(seen_high, x, out=seen_high)
            if high - seen_low[n] >= need:
                ranges[variables[n]] = (seen_low[n], high)
                continue
            if seen_low[n] <= low_bound[n] + tolerance:
                low = float(low_bound[n])
            else:
                objective[n] = 1.0
                status, fun, x = programme.solve(objective)
                low = -math.inf if status == 3 else fun
                if x is not None:
                    np.minimum(seen_low, x, out=seen_low)
                    np.maximum(seen_high, x, out=seen_high)
            ranges[variables[n]] = (low, high)
    return np.vectorize(_snap, otypes=[np.float64])(ranges) if k else ranges


def feasible_ranges(
    values: FloatArray,
    suppressed: BoolArray,
    *,
    row_totals: FloatArray | None,
    col_totals: FloatArray | None,
    grand_total: float | None,
    bounds: FloatArray | None = None,
) -> FloatArray:
    """The [min, max] each suppressed cell can take given everything else that is published.

    ``values`` is the (R, C) interior of the table (margins excluded); values at suppressed
    positions are ignored (NaN by convention). ``row_totals`` (R,) and ``col_totals`` (C,)
    are the published margins, NaN where a margin cell is itself hidden, None when the table
    has no such margin; ``grand_total`` likewise (None: not published, NaN: hidden).

    ``bounds`` is what is known of each suppressed cell, (R, C, 2) as [lower, upper], NaN
    meaning the default [0, infinity) since counts are never negative (a cell shown ``<11``
    lies in [1, 10]). It may also be (R + 1, C + 1, 2) to bound hidden margins: column C for
    row totals, row R for column totals, [R, C] for the grand total. A hidden margin without
    bounds is simply left out: it would equal the sum of its line and constrain nothing.

    Returns (R, C, 2): NaN for visible cells, ``inf`` for a maximum nothing bounds. Raises
    :class:`InconsistentTable` when the published totals cannot hold with the visible cells.
    """
    values = np.asarray(values, dtype=np.float64)
    suppressed = np.asarray(suppressed, dtype=bool)
    rows = (
        None if row_totals is None else _as_float_array("row_totals", row_totals, values.shape[:1])
    )
    cols = (
        None if col_totals is None else _as_float_array("col_totals", col_totals, values.shape[1:2])
    )
    grand = None if grand_total is None else float(grand_total)
    problem = _build(values, suppressed, rows, cols, grand, bounds)
    result = np.full((*values.shape, 2), np.nan)
    if problem.cells:
        ranges = _solve(problem)
        index = tuple(np.array(problem.cells).T)
        result[index] = ranges
    return result


# --------------------------------------------------------------------------------------
# The rule
# --------------------------------------------------------------------------------------


def _declared_widths(bounds: FloatArray | None, shape: tuple[int, int]) -> FloatArray:
    """How wide each cell's own marker already says its range is (``<11``: 9)."""
    lower, upper, _ = _clean_bounds(bounds, shape)
    return upper - lower


def check_secondary_suppression(
    values: FloatArray,
    suppressed: BoolArray,
    *,
    row_totals: FloatArray | None,
    col_totals: FloatArray | None,
    grand_total: float | None,
    bounds: FloatArray | None,
    policy: Policy,
) -> RuleResult:
    """The ``secondary_suppression`` rule: no hidden cell may be pinned by the margins.

    A suppressed cell fails when its feasible range is narrower than ``policy.threshold``:
    an intruder learns it to within fewer units than the threshold hides. A cell whose own
    marker already publishes a narrower range (``<11`` is 1 to 10) fails only when the
    margins narrow it further than its marker does. Margins that do not add up are for a
    person to judge: ``review``. Arguments are as for :func:`feasible_ranges`.
    """
    values = np.asarray(values, dtype=np.float64)
    suppressed = np.asarray(suppressed, dtype=bool)
    count = int(suppressed.sum())
    if not count:
        return passed(RULE, "no suppressed cells: nothing to recompute")
    try:
        ranges = feasible_ranges(
            values,
            suppressed,
            row_totals=row_totals,
            col_totals=col_totals,
            grand_total=grand_total,
            bounds=bounds,
        )
    except InconsistentTable as exc:
        return flagged(RULE, Status.REVIEW, f"the margins do not add up: {exc}")
    shape = (values.shape[0], values.shape[1])
    widths = ranges[..., 1] - ranges[..., 0]
    required = np.minimum(float(policy.threshold), _declared_widths(bounds, shape))
    slack = _SNAP * np.maximum(1.0, np.abs(np.nan_to_num(ranges[..., 1], posinf=0.0)))
    narrow = suppressed & (widths < required - slack)
    if narrow.any():
        cells = [(int(i), int(j)) for i, j in np.argwhere(narrow)]
        i, j = cells[0]
        low, high = ranges[i, j]
        where = (
            f"it is exactly {_number(low)}"
            if low == high
            else f"it lies between {_number(low)} and {_number(high)}"
        )
        summary = (
            f"suppressed cell (row {i + 1}, column {j + 1}) can be recomputed from the margins:"
            f" {where}"
        )
        if len(cells) > 1:
            others = len(cells) - 1
            summary += (
                f"; {others} more suppressed cell{'s' if others > 1 else ''} lie in ranges"
                f" narrower than {policy.threshold}"
            )
        return flagged(RULE, Status.FAIL, summary, cells)
    noun = "cell" if count == 1 else "cells"
    narrowest = float(widths[suppressed].min())
    if math.isinf(narrowest):
        return passed(
            RULE,
            f"{count} suppressed {noun} cannot be recomputed: no published total bounds"
            f" {'it' if count == 1 else 'them'}",
        )
    return passed(
        RULE,
        f"{count} suppressed {noun} cannot be recomputed closer than ±{_number(narrowest / 2)}"
        f" (each range at least {policy.threshold} wide)",
    )


# --------------------------------------------------------------------------------------
# Choosing the secondary suppressions
# --------------------------------------------------------------------------------------


def published_margins(
    counts: FloatArray, *, with_margins: bool = True
) -> tuple[FloatArray | None, FloatArray | None, float | None]:
    """The margins a helper publishes with ``counts``: (row totals, column totals, grand).

    A margin over a single line only repeats that line (the column totals of a one-row
    table are its cells), so it is not published: row totals need at least two columns,
    column totals at least two rows, and the grand total both. :func:`choose_secondary`
    protects the cells against exactly these margins; helpers must publish no more.
    """
    counts = np.asarray(counts, dtype=np.float64)
    if not with_margins:
        return None, None, None
    rows, cols = counts.shape
    row_totals = counts.sum(axis=1) if cols > 1 else None
    col_totals = counts.sum(axis=0) if rows > 1 else None
    grand = float(counts.sum()) if rows > 1 and cols > 1 else None
    return row_totals, col_totals, grand


def _best_partner(
    counts: FloatArray,
    mask: BoolArray,
    cell: Cell,
    threshold: float,
    rows_published: bool,
    cols_published: bool,
) -> list[Cell]:
    """The cheapest cells whose suppression alone gives ``cell`` a range >= threshold.

    With row and column totals, a rectangle (i, j), (i, l), (k, j), (k, l) of hidden cells
    can shift by +d, -d, -d, +d and every total still holds; counts stay non-negative for d
    from -min(x_ij, x_kl) to min(x_il, x_kj), so all four corners get a range that wide.
    With row totals only, a pair in the row shifts by +d, -d (range x_ij + x_il); likewise
    for columns. Cost: the sum of the newly hidden counts (the information lost), then how
    many cells are newly hidden, then position. Empty when no rectangle or pair suffices.
    """
    i, j = cell
    hidden_cost = np.where(mask, 0.0, counts)
    new = (~mask).astype(np.float64)
    slack = _SNAP * max(1.0, threshold)
    if rows_published and cols_published:
        row_i, col_j = counts[i, :], counts[:, j]
        width = np.minimum(row_i[None, :], col_j[:, None]) + np.minimum(counts[i, j], counts)
        cost = hidden_cost[i, :][None, :] + hidden_cost[:, j][:, None] + hidden_cost
        added = new[i, :][None, :] + new[:, j][:, None] + new
        valid = width >= threshold - slack
        valid[i, :] = False
        valid[:, j] = False
        if not valid.any():
            return []
        ks, ls = np.nonzero(valid)
        order = np.lexsort((ls, ks, added[ks, ls], cost[ks, ls]))
        k, col = int(ks[order[0]]), int(ls[order[0]])
        return [(i, col), (k, j), (k, col)]
    if rows_published or cols_published:
        line = counts[i, :] if rows_published else counts[:, j]
        line_cost = hidden_cost[i, :] if rows_published else hidden_cost[:, j]
        own = j if rows_published else i
        valid = counts[i, j] + line >= threshold - slack
        valid[own] = False
        if not valid.any():
            return []
        (others,) = np.nonzero(valid)
        best = int(others[np.lexsort((others, line_cost[others]))[0]])
        return [(i, best)] if rows_published else [(best, j)]
    return []


def _fallback(counts: FloatArray, mask: BoolArray, narrow: BoolArray) -> Cell | None:
    """One more cell when no rectangle suffices: it shares lines with most narrow cells.

    Ties go to the smallest count, then the first position. When no visible cell shares a
    line with a narrow one, the smallest visible cell anywhere; None when all is hidden.
    """
    visible = ~mask
    if not visible.any():
        return None
    shared = narrow.sum(axis=1)[:, None] + narrow.sum(axis=0)[None, :]
    score = np.where(visible, shared, -1)
    candidates = np.argwhere(score == score.max()) if score.max() > 0 else np.argwhere(visible)
    ordered = sorted((float(counts[i, j]), int(i), int(j)) for i, j in candidates)
    return ordered[0][1], ordered[0][2]


def choose_secondary(
    counts: FloatArray, primary: BoolArray, *, threshold: int, with_margins: bool = True
) -> BoolArray:
    """Cells to hide, ``primary`` included, so that no hidden cell can be recomputed.

    ``counts`` is the whole table (non-negative), ``primary`` the cells that failed the
    threshold. The margins are those of :func:`published_margins`, computed from the true
    counts; hidden cells are only known to be non-negative. The result is a mask whose every
    hidden cell has a feasible range at least ``threshold`` wide.

    The heuristic, deterministic and terminating: while some hidden cell is too narrow,
    give it the cheapest rectangle (or pair, with one margin) of cells that protects it on
    its own, in row-major order, reusing cells already hidden at no cost; where none exists,
    hide one more cell sharing lines with the most narrow cells (the smallest first) and
    look again. Each round hides at least one cell, so in the worst case everything is
    hidden; if even that cannot help (a margin itself below the threshold), the all-hidden
    mask is returned and the rule will still fail: such a margin must be suppressed too.
    """
    counts = np.asarray(counts, dtype=np.float64)
    mask = np.array(primary, dtype=bool, copy=True)
    if counts.ndim != 2 or mask.shape != counts.shape:
        raise ValueError("counts must be a 2-D array and primary a mask of the same shape")
    if not np.isfinite(counts).all() or (counts < 0).any():
        raise ValueError("counts must be finite and non-negative")
    row_totals, col_totals, grand = published_margins(counts, with_margins=with_margins)
    if row_totals is None and col_totals is None:
        return mask  # nothing published bounds a hidden cell from above
    limit = float(threshold)
    while mask.any():
        values = np.where(mask, np.nan, counts)
        problem = _build(values, mask, row_totals, col_totals, grand, None)
        needed = np.full(len(problem.lower), limit)
        ranges = _solve(problem, needed)
        widths = ranges[:, 1] - ranges[:, 0]
        narrow = np.zeros_like(mask)
        for (i, j), width in zip(problem.cells, widths, strict=True):
            narrow[i, j] = width < limit - _SNAP * max(1.0, limit)
        if not narrow.any():
            break
        protected: set[Cell] = set()
        grown = False
        for i, j in np.argwhere(narrow):
            cell = (int(i), int(j))
            if cell in protected:
                continue
            partners = _best_partner(
                counts, mask, cell, limit, row_totals is not None, col_totals is not None
            )
            if partners:
                grown = grown or any(not mask[p] for p in partners)
                for p in partners:
                    mask[p] = True
                protected.update([cell, *partners])
        if not grown:
            extra = _fallback(counts, mask, narrow)
            if extra is None:
                break
            mask[extra] = True
    return mask
