"""Rules for tables: threshold, zeros and class disclosure, dominance, p%, negative and
missing values.

Each function takes arrays shaped like the table's data part and returns
:class:`RuleResult` values whose ``cells`` are (row, column) positions in that data part.
Every number a summary prints comes from the policy.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from agoria_tre.disclosure.policy import Policy
from agoria_tre.disclosure.report import Cell, RuleResult, flagged, passed, plural
from agoria_tre.disclosure.status import Status

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]


def _cells(mask: BoolArray) -> list[Cell]:
    return [(int(i), int(j)) for i, j in zip(*np.nonzero(mask), strict=True)]


def threshold_mask(counts: FloatArray, policy: Policy) -> BoolArray:
    """Cells the threshold rule fails: non-zero counts under the threshold, and zeros when
    the policy says zeros fail. NaN (unknown) cells are not flagged."""
    known = ~np.isnan(counts)
    small = known & (counts > 0) & (counts < policy.threshold)
    if policy.zeros is Status.FAIL:
        small |= known & (counts == 0)
    return np.asarray(small, dtype=bool)


def dominance_mask(total: FloatArray, top: FloatArray, policy: Policy) -> BoolArray:
    """Cells whose largest ``n`` contributions make ``k`` or more of a positive total.
    ``top``'s last axis holds each cell's largest contributions, descending."""
    top_n = np.nan_to_num(top[..., : policy.dominance_n]).sum(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(total > 0, top_n / total, np.nan)
    return np.asarray(~np.isnan(share) & (share >= policy.dominance_k), dtype=bool)


def p_percent_mask(total: FloatArray, top: FloatArray, policy: Policy) -> BoolArray:
    """Cells where the others hide the (positive) largest contribution by less than p."""
    largest = np.nan_to_num(top[..., 0])
    second = np.nan_to_num(top[..., 1]) if top.shape[-1] > 1 else np.zeros(largest.shape)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(largest > 0, (total - largest - second) / largest, np.nan)
    return np.asarray(~np.isnan(ratio) & (ratio < policy.p_percent), dtype=bool)


def primary_mask(
    counts: FloatArray, total: FloatArray | None, top: FloatArray | None, policy: Policy
) -> BoolArray:
    """Every cell the threshold, dominance or p% rule fails: the primary suppressions.
    The one definition that both the checker's rules and ``safe``'s suppression use."""
    mask = threshold_mask(counts, policy)
    if total is not None and top is not None:
        mask |= dominance_mask(total, top, policy) | p_percent_mask(total, top, policy)
    return mask


def threshold(
    counts: FloatArray, policy: Policy, *, what: str = "cell", asserted: bool = False
) -> RuleResult:
    """Non-zero counts under the threshold fail; zeros too when the policy says zeros fail.

    ``counts`` holds units per cell (NaN where unknown: hidden cells are left to the
    secondary suppression rule).
    """
    small = threshold_mask(counts, policy)
    if not small.any():
        return passed(
            "threshold", f"every {what} counts at least {policy.threshold} units", asserted=asserted
        )
    zeros = " (zeros included)" if policy.zeros is Status.FAIL else ""
    return flagged(
        "threshold",
        Status.FAIL,
        f"{plural(int(small.sum()), what)} with fewer than {policy.threshold} units{zeros}",
        _cells(small),
        asserted=asserted,
    )


def zeros_and_class_disclosure(
    counts: FloatArray,
    policy: Policy,
    *,
    margin_rows: Sequence[int] = (),
    margin_columns: Sequence[int] = (),
    asserted: bool = False,
) -> list[RuleResult]:
    """Zero cells, and rows or columns whose units all fall in one cell (0 % / 100 %).

    Both reveal something about everyone in the group ("no patient of this département had
    the event"). Margins are left out: a total row is not a group.
    """
    results: list[RuleResult] = []
    interior = np.ones(counts.shape, dtype=bool)
    interior[list(margin_rows), :] = False
    interior[:, list(margin_columns)] = False
    known = ~np.isnan(counts)
    if policy.zeros is not Status.FAIL:  # when zeros fail, the threshold rule reports them
        zero = known & interior & (counts == 0)
        if zero.any() and policy.zeros is not Status.PASS:
            results.append(
                flagged(
                    "zeros",
                    policy.zeros,
                    f"{plural(int(zero.sum()), 'zero cell')}: a zero says something about"
                    " everyone in its group",
                    _cells(zero),
                    asserted=asserted,
                )
            )
        else:
            results.append(passed("zeros", "no zero cell", asserted=asserted))
    if policy.class_disclosure is Status.PASS:
        return results
    full = np.zeros(counts.shape, dtype=bool)
    lines: list[str] = []
    rows = [i for i in range(counts.shape[0]) if i not in margin_rows]
    cols = [j for j in range(counts.shape[1]) if j not in margin_columns]
    for axis, indices, others in ((0, rows, cols), (1, cols, rows)):
        if len(others) < 2:
            continue
        for index in indices:
            line = counts[index, others] if axis == 0 else counts[others, index]
            if np.isnan(line).any():
                continue
            if (line > 0).sum() == 1 and line.sum() > 0:
                lines.append(f"{'row' if axis == 0 else 'column'} {index}")
                for other in others:
                    full[(index, other) if axis == 0 else (other, index)] = True
    if lines:
        results.append(
            flagged(
                "class_disclosure",
                policy.class_disclosure,
                f"all units of {', '.join(lines[:3])}{' …' if len(lines) > 3 else ''} fall in"
                " one cell (0 % / 100 %): everyone in that group shares the attribute",
                _cells(full),
                asserted=asserted,
            )
        )
    else:
        results.append(
            passed("class_disclosure", "no row or column is all in one cell", asserted=asserted)
        )
    return results


def dominance(
    total: FloatArray, top: FloatArray, policy: Policy, *, asserted: bool = False
) -> RuleResult:
    """(n, k) rule: the largest n contributions make k or more of a cell's total.

    ``top`` is shaped (rows, columns, m) with each cell's largest contributions in
    descending order (m >= n; missing ones are 0). Compared with ``>=``, as ACRO does.
    """
    n = policy.dominance_n
    dominated = dominance_mask(total, top, policy)
    if not dominated.any():
        return passed(
            "dominance",
            f"in every cell the largest {n} contributors make less than"
            f" {policy.dominance_k:.0%} of the total",
            asserted=asserted,
        )
    return flagged(
        "dominance",
        Status.FAIL,
        f"in {plural(int(dominated.sum()), 'cell')} the largest {n} contributors make"
        f" {policy.dominance_k:.0%} or more of the total",
        _cells(dominated),
        asserted=asserted,
    )


def p_percent(
    total: FloatArray, top: FloatArray, policy: Policy, *, asserted: bool = False
) -> RuleResult:
    """p% rule: (total - largest - second) / largest < p: the second contributor could
    estimate the largest to within p %."""
    unsafe = p_percent_mask(total, top, policy)
    if not unsafe.any():
        return passed(
            "p_percent",
            f"in every cell the others hide the largest contribution by at least"
            f" {policy.p_percent:.0%}",
            asserted=asserted,
        )
    return flagged(
        "p_percent",
        Status.FAIL,
        f"in {plural(int(unsafe.sum()), 'cell')} the second contributor could estimate the"
        f" largest to within {policy.p_percent:.0%}",
        _cells(unsafe),
        asserted=asserted,
    )


def negative_values(negative: BoolArray, policy: Policy, *, asserted: bool = False) -> RuleResult:
    if not negative.any():
        return passed("negative_values", "no negative contribution", asserted=asserted)
    return flagged(
        "negative_values",
        policy.negative_values,
        f"{plural(int(negative.sum()), 'cell')} have negative contributions: dominance and"
        " p% are not defined there",
        _cells(negative),
        asserted=asserted,
    )


def missing_values(missing: BoolArray, policy: Policy, *, asserted: bool = False) -> RuleResult:
    if not missing.any():
        return passed("missing_values", "no missing value", asserted=asserted)
    return flagged(
        "missing_values",
        policy.missing_values,
        f"{plural(int(missing.sum()), 'cell')} were computed over missing values, which hide"
        " their denominators",
        _cells(missing),
        asserted=asserted,
    )
