"""``surv_func``: statsmodels' Kaplan-Meier estimator, writing its table and evidence.

It returns the ``SurvfuncRight`` statsmodels returns and writes, into the outputs folder,
``<name>.csv``: one row per step, columns ``time`` (the label), ``at risk``, ``events``,
``survival`` and ``std err``, with an evidence sidecar of kind ``survival``. The checker
applies the threshold to the numbers at risk and to the events of every step (a step with
no event is no small group).

Under the French rule most raw Kaplan-Meier tables fail: a step usually carries one to three
events, and the tail few units at risk. Two ways to publish one:

``interval=``
    groups the steps into intervals ``[k * interval, (k + 1) * interval)`` (a life table):
    a row shows the units at risk at the interval's start, the events within it, and the
    Kaplan-Meier survival and standard error at its end. Choose it so that each interval
    carries 0 or at least the threshold's number of events; it also stops the table
    printing individual event times. An interval that falls short (1 to threshold - 1
    events, or fewer units at risk than the threshold) is merged with the next, the last
    one with the one before: the table written passes its own check.
administrative censoring at a horizon
    the tail fails while fewer units than the threshold remain at risk. Censor every time
    past a horizon ``h`` (``time.clip(upper=h)``, ``status & (time <= h)``): the estimate up
    to ``h`` is unchanged and the table stops there.

``unit=``
    the unit identifiers, one per row of ``time``. With several rows per unit (delayed
    entry in start-stop form), the evidence counts distinct units at risk and with an
    event rather than rows. Frequency weights count units, as in statsmodels.
"""

from __future__ import annotations

import itertools
import math
import os
from dataclasses import dataclass
from numbers import Real
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from statsmodels.duration.survfunc import SurvfuncRight

from agoria_tre.disclosure.policy import Policy
from agoria_tre.safe.outputs import (
    active_policy,
    evidence_document,
    output_name,
    outputs_dir,
    short_numbers,
    table_csv,
    write_output,
)

__all__ = ["COLUMNS", "surv_func"]

COLUMNS = ("at risk", "events", "survival", "std err")
FloatArray = NDArray[np.float64]


class _Cohort:
    """The rows behind an estimate: when each left, whether by an event, how many it counts."""

    def __init__(self, time: Any, status: Any, entry: Any, freq_weights: Any, unit: Any) -> None:
        self.time = np.asarray(time, dtype=np.float64)
        self.event = np.asarray(status, dtype=np.float64)
        self.entry = None if entry is None else np.asarray(entry, dtype=np.float64)
        self.weight = (
            np.ones_like(self.time)
            if freq_weights is None
            else np.asarray(freq_weights, dtype=np.float64)
        )
        self.unit = None if unit is None else np.asarray(unit)
        if self.unit is not None and self.unit.shape != self.time.shape:
            raise ValueError("unit must give one identifier per row of time")

    def at_risk(self, at: FloatArray) -> FloatArray:
        """Weight at risk just before each time: entered before it, not left before it."""
        risk = self._weight_from(self.time, self.weight, at)
        if self.entry is not None:  # entered at or after t: not yet at risk
            risk = risk - self._weight_from(self.entry, self.weight, at)
        return risk

    def events(self, low: FloatArray, high: FloatArray | None) -> FloatArray:
        """Weighted events at each ``low`` (``high`` None) or within ``[low, high)``."""
        order = np.argsort(self.time, kind="stable")
        times = self.time[order]
        cumulative = np.concatenate(([0.0], np.cumsum((self.event * self.weight)[order])))
        start = np.searchsorted(times, low, side="left")
        stop = (
            np.searchsorted(times, low, side="right")
            if high is None
            else np.searchsorted(times, high, side="left")
        )
        return np.asarray(cumulative[stop] - cumulative[start], dtype=np.float64)

    def distinct_units(
        self, low: FloatArray, high: FloatArray | None
    ) -> tuple[FloatArray, FloatArray]:
        """Distinct units at risk at each ``low`` and with an event in its step or interval."""
        if self.unit is None:
            raise RuntimeError("no unit identifiers were given")
        entered = np.full(self.time.shape, -np.inf) if self.entry is None else self.entry
        counted = self.weight > 0
        risk = np.zeros(low.shape)
        events = np.zeros(low.shape)
        for k, start in enumerate(low):
            stop = start if high is None else high[k]
            present = counted & (entered < start) & (self.time >= start)
            ended = (
                (self.time == start) if high is None else (self.time >= start) & (self.time < stop)
            )
            risk[k] = pd.unique(self.unit[present]).size
            events[k] = pd.unique(self.unit[counted & ended & (self.event != 0)]).size
        return risk, events

    @staticmethod
    def _weight_from(values: FloatArray, weight: FloatArray, at: FloatArray) -> FloatArray:
        """Total weight of the rows whose value is at least each of ``at``."""
        order = np.argsort(values, kind="stable")
        tail = np.concatenate((np.cumsum(weight[order][::-1])[::-1], [0.0]))
        return np.asarray(tail[np.searchsorted(values[order], at, side="left")])


@dataclass(frozen=True)
class _Rows:
    """The table's rows: each starts at ``low`` and is one step (``high`` None) or the
    interval ``[low, high)``."""

    labels: pd.Index
    low: FloatArray
    high: FloatArray | None
    risk: FloatArray
    events: FloatArray
    survival: FloatArray
    std_err: FloatArray


def _whole(values: FloatArray) -> NDArray[Any]:
    """Counts as integers when they are whole (no frequency weights with fractions)."""
    finite = np.isfinite(values)
    if finite.all() and np.all(values == np.round(values)):
        return values.astype(np.int64)
    return values


def _steps(sf: SurvfuncRight, cohort: _Cohort, exog: Any) -> _Rows:
    times = np.asarray(sf.surv_times, dtype=np.float64)
    if exog is None:
        risk = np.asarray(sf.n_risk, dtype=np.float64)
        events = np.asarray(sf.n_events, dtype=np.float64)
    else:  # the kernel estimate has no counts of its own: the cohort's are what it rests on
        risk, events = cohort.at_risk(times), cohort.events(times, None)
    survival = np.asarray(sf.surv_prob, dtype=np.float64)
    std_err = np.asarray(sf.surv_prob_se, dtype=np.float64)
    return _Rows(
        pd.Index(short_numbers(times), name="time"), times, None, risk, events, survival, std_err
    )


def _interval_width(interval: object) -> float:
    if isinstance(interval, bool) or not isinstance(interval, Real):
        raise ValueError(f"interval must be a positive number, not {interval!r}")
    width = float(interval)
    if not 0 < width < math.inf:
        raise ValueError(f"interval must be a positive number, not {interval!r}")
    return width


def _merged(
    low: FloatArray, high: FloatArray, risk: FloatArray, events: FloatArray, threshold: int
) -> tuple[FloatArray, FloatArray]:
    """Edges of intervals that each pass the threshold: an interval with 1 to
    ``threshold - 1`` events is joined to the next one, an interval that starts with fewer
    units at risk than the threshold to the one before it; last intervals that still fall
    short are joined to those before them."""
    if not len(low):
        return low, high
    starts: list[int] = []
    totals: list[float] = []
    for k in range(len(low)):
        closed = not totals or totals[-1] == 0 or totals[-1] >= threshold
        if not starts or (closed and risk[k] >= threshold):
            starts.append(k)
            totals.append(0.0)
        totals[-1] += events[k]
    while len(starts) > 1 and 0 < totals[-1] < threshold:
        starts.pop()
        last = totals.pop()
        totals[-1] += last
    ends = [*starts[1:], len(low)]
    return low[starts], high[np.array(ends) - 1]


def _intervals(sf: SurvfuncRight, cohort: _Cohort, width: float, policy: Policy) -> _Rows:
    max_rows = policy.limits.max_rows
    times = np.asarray(sf.surv_times, dtype=np.float64)
    event_times = cohort.time[(cohort.event != 0) & (cohort.weight > 0)]
    if event_times.size == 0:
        low = np.zeros(0)
    else:
        first = math.floor(float(event_times.min()) / width)
        last = math.floor(float(event_times.max()) / width)
        if last - first + 1 > max_rows:
            raise ValueError(
                f"interval={width:g} makes {last - first + 1:,} rows, more than the policy's"
                f" {max_rows:,}: choose a wider interval"
            )
        low = np.arange(first, last + 1, dtype=np.float64) * width
    high = low + width
    low, high = _merged(low, high, cohort.at_risk(low), cohort.events(low, high), policy.threshold)
    # Survival at an interval's end: the estimate after the last step before it ends.
    before_end = np.searchsorted(times, high, side="left") - 1
    has_step = before_end >= 0
    step = np.clip(before_end, 0, None)
    survival = np.where(has_step, np.asarray(sf.surv_prob, dtype=np.float64)[step], 1.0)
    std_err = np.where(has_step, np.asarray(sf.surv_prob_se, dtype=np.float64)[step], 0.0)
    edges = short_numbers(np.append(low, high[-1:]))
    labels = pd.Index([f"[{a}, {b})" for a, b in itertools.pairwise(edges)], name="time")
    return _Rows(
        labels, low, high, cohort.at_risk(low), cohort.events(low, high), survival, std_err
    )


def surv_func(
    time: Any,
    status: Any,
    *,
    entry: Any = None,
    title: str | None = None,
    freq_weights: Any = None,
    exog: Any = None,
    bw_factor: float = 1.0,
    interval: float | None = None,
    unit: Any = None,
    name: str | None = None,
    outputs: str | os.PathLike[str] | None = None,
    policy: Policy | None = None,
) -> SurvfuncRight:
    """``statsmodels.duration.survfunc.SurvfuncRight(time, status, ...)``, writing the
    Kaplan-Meier table and its evidence; see the module docstring."""
    policy = active_policy(policy)
    width = None if interval is None else _interval_width(interval)
    sf = SurvfuncRight(
        time,
        status,
        entry=entry,
        title=title,
        freq_weights=freq_weights,
        exog=exog,
        bw_factor=bw_factor,
    )
    cohort = _Cohort(time, status, entry, freq_weights, unit)
    rows = _steps(sf, cohort, exog) if width is None else _intervals(sf, cohort, width, policy)
    columns = (_whole(rows.risk), _whole(rows.events), rows.survival, rows.std_err)
    table = pd.DataFrame(dict(zip(COLUMNS, columns, strict=True)), index=rows.labels)
    unit_risk, unit_events = (
        (rows.risk, rows.events) if unit is None else cohort.distinct_units(rows.low, rows.high)
    )
    units = np.zeros(table.shape)
    units[:, 0], units[:, 1] = unit_risk, unit_events
    statistic = "kaplan-meier" + ("" if width is None else f", intervals of {width:g}")
    stem = output_name(name, "km", title or getattr(time, "name", None))
    evidence = evidence_document(
        output=f"{stem}.csv",
        kind="survival",
        statistic=statistic,
        unit=None if unit is None else str(getattr(unit, "name", None) or "unit"),
        label_columns=1,
        units=units,
    )
    write_output(outputs_dir(outputs), stem, ".csv", table_csv(table), evidence, policy)
    return sf
