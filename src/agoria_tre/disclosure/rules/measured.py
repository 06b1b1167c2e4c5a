"""Rules on a table whose cells' measures are decided (:mod:`agoria_tre.disclosure.layout`).

Without evidence, what a table shows is all a rule can use:

- counts of units face the threshold (and, in a table of counts only, zeros and class
  disclosure);
- a minimum or a maximum is one unit's value: it fails;
- a statistic, a quantile or a model's figure over a count of units the table shows passes
  when that count faces the threshold (the count's own cell fails otherwise); where the
  table shows no count, the number of units behind it is unknown: review;
- a magnitude (a sum of euros, days, milligrams) needs its contributors and their shares
  (evidence) for the dominance rules: review;
- percentages without any count beside them hide their denominators: review;
- exposures (person-years) and tests' figures (p-values, statistics) pass.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from agoria_tre.disclosure.layout import EXTREME_WORDS, Layout, Measure, mentions, words_of
from agoria_tre.disclosure.policy import Policy
from agoria_tre.disclosure.report import Cell, RuleResult, flagged, passed, plural
from agoria_tre.disclosure.rules import tables
from agoria_tre.disclosure.status import Status


def _cells(mask: NDArray[np.bool_]) -> list[Cell]:
    return [(int(i), int(j)) for i, j in np.argwhere(mask)]


def _shown(lay: Layout, *measures: Measure) -> NDArray[np.bool_]:
    """Cells of these measures that show something (a number, or text such as "54.8 (19.9)")."""
    return np.asarray(lay.mask(*measures) & ~lay.table.empty, dtype=bool)


def _names(lay: Layout, mask: NDArray[np.bool_]) -> str:
    table = lay.table
    if lay.along_rows:
        picked = [table.row_labels[i][0] for i in sorted({int(i) for i, _ in np.argwhere(mask)})]
    else:
        picked = [table.header[j] for j in sorted({int(j) for _, j in np.argwhere(mask)})]
    return ", ".join(repr(p.strip()) for p in picked[:3]) + (" …" if len(picked) > 3 else "")


def _first_totals(lay: Layout) -> NDArray[np.bool_]:
    """The first shown cell of each running total: a count of its own (the later ones are
    checked by their differences)."""
    mask = lay.mask(Measure.CUMULATIVE)
    values = lay.table.values
    shown = mask & ~np.isnan(values) & (values == np.round(values))
    first = np.zeros(mask.shape, dtype=bool)
    lines = shown if lay.along_rows else shown.T  # one line per running total
    for k, line in enumerate(lines):
        if line.any():
            at = int(np.argmax(line))
            if lay.along_rows:
                first[k, at] = True
            else:
                first[at, k] = True
    return first


def counts(lay: Layout, policy: Policy) -> list[RuleResult]:
    """The threshold on every count the table shows, the first of a running total's too."""
    mask = lay.mask(Measure.COUNT) | _first_totals(lay)
    if not mask.any():
        return []
    values = np.where(mask, lay.table.values, np.nan)
    what = "cell" if lay.only_counts else "count"
    return [tables.threshold(values, policy, what=what)]


def _extreme_labels(lay: Layout) -> NDArray[np.bool_]:
    """Cells under a label that shows an extreme value ("min 18.0 to 33.8", a histogram's
    outer bin; "max = 97")."""
    table = lay.table
    mask = np.zeros(table.shape, dtype=bool)
    if mentions(EXTREME_WORDS, [label for labels in table.row_labels for label in labels]):
        for i, labels in enumerate(table.row_labels):
            if any(_shows_extreme(label) for label in labels):
                mask[i, :] = True
    for j, name in enumerate(table.header):
        if _shows_extreme(name):
            mask[:, j] = True
    return mask


def _shows_extreme(label: str) -> bool:
    return bool(words_of(label) & EXTREME_WORDS) and any(c.isdigit() for c in label)


def extremes(lay: Layout) -> list[RuleResult]:
    mask = _shown(lay, Measure.EXTREME) | _extreme_labels(lay)
    if not mask.any():
        return []
    return [
        flagged(
            "statistic.extremes",
            Status.FAIL,
            f"{plural(int(mask.sum()), 'cell')} showing a minimum or maximum, a single unit's"
            f" value: {_names(lay, mask)}",
            _cells(mask),
        )
    ]


def over_units(lay: Layout, policy: Policy) -> list[RuleResult]:
    """Statistics, quantiles and models' figures: over a count the table shows, or unknown."""
    results: list[RuleResult] = []
    behind = lay.units_behind
    for measure, rule in (
        (Measure.QUANTILE, "statistic.quantiles"),
        (Measure.STATISTIC, "statistic.units"),
        (Measure.MODEL, "model.units"),
    ):
        mask = _shown(lay, measure)
        if not mask.any():
            continue
        unknown = mask & np.isnan(behind)
        if unknown.any():
            results.append(
                flagged(
                    rule,
                    Status.REVIEW,
                    f"{plural(int(unknown.sum()), 'cell')} ({_names(lay, unknown)}) rest on a"
                    " number of units the table does not show: check it is at least"
                    f" {policy.threshold}",
                    _cells(unknown),
                )
            )
        else:
            results.append(
                passed(rule, f"every {measure.value} rests on a count of units the table shows")
            )
    return results


def magnitudes(lay: Layout) -> list[RuleResult]:
    """Sums, and means of a variable in euros, days or milligrams: one unit may dominate."""
    mask = _shown(lay, Measure.MAGNITUDE)
    statistics = _shown(lay, Measure.STATISTIC)
    in_units: set[str] = set()
    if statistics.any():  # means in euros, days or milligrams are magnitudes too
        mask |= statistics & lay.in_a_unit
        in_units = {u for u in lay.cell_units[mask] if u}
    if not mask.any():
        return []
    units = sorted(in_units | {u for u in lay.units if u})
    unit = f" (in {', '.join(units)})" if units else ""
    return [
        flagged(
            "magnitude.evidence",
            Status.REVIEW,
            f"{plural(int(mask.sum()), 'magnitude cell')}{unit}, {_names(lay, mask)}, without"
            " evidence of their contributors: how many units and how concentrated is unknown",
            _cells(mask),
        )
    ]


def percentages(lay: Layout) -> list[RuleResult]:
    mask = _shown(lay, Measure.PERCENT)
    if not mask.any() or lay.mask(Measure.COUNT, Measure.CUMULATIVE).any():
        return []
    return [
        flagged(
            "percent.denominator",
            Status.REVIEW,
            f"percentages ({_names(lay, mask)}) without the counts they are shares of: a"
            " small denominator is hidden",
            _cells(mask),
        )
    ]


def measured(lay: Layout, policy: Policy) -> list[RuleResult]:
    """Every rule above, in the order a reviewer reads them."""
    return [
        *counts(lay, policy),
        *extremes(lay),
        *over_units(lay, policy),
        *magnitudes(lay),
        *percentages(lay),
    ]
