"""The intervals of a life table (safe/survival.py, ``_merged``): joined until each carries 0
or at least the threshold's number of events, contiguous, over the same span."""

from __future__ import annotations

import numpy as np
from hypothesis import example, given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray

from agoria_tre.safe.survival import _merged

FloatArray = NDArray[np.float64]
THRESHOLD = 11
WIDTH = 2.5


def edges(n: int, first: int = 0) -> tuple[FloatArray, FloatArray]:
    low = (first + np.arange(n, dtype=np.float64)) * WIDTH
    return low, low + WIDTH


def merge(
    risk: list[int], events: list[int], threshold: int = THRESHOLD, first: int = 0
) -> tuple[FloatArray, FloatArray]:
    low, high = edges(len(events), first)
    return _merged(
        low, high, np.array(risk, dtype=np.float64), np.array(events, dtype=np.float64), threshold
    )


def grouped_events(
    low: FloatArray, events: list[int], merged_low: FloatArray, merged_high: FloatArray
) -> list[float]:
    """The events each merged interval carries, summed over the intervals it joins."""
    return [
        float(sum(e for start, e in zip(low, events, strict=True) if a <= start < b))
        for a, b in zip(merged_low, merged_high, strict=True)
    ]


cohorts = st.integers(min_value=1, max_value=12).flatmap(
    lambda n: st.tuples(
        st.lists(st.integers(0, 60), min_size=n, max_size=n),  # at risk
        st.lists(st.integers(0, 25), min_size=n, max_size=n),  # events
        st.integers(1, 15),  # threshold
        st.integers(-3, 3),  # the first interval's index
    )
)


@settings(database=None, max_examples=300, deadline=None)
@given(cohorts)
def test_merged_intervals_are_contiguous_and_cover_the_same_span(
    cohort: tuple[list[int], list[int], int, int],
) -> None:
    risk, events, threshold, first = cohort
    low, high = edges(len(events), first)
    merged_low, merged_high = merge(risk, events, threshold, first)
    assert len(merged_low) == len(merged_high) >= 1
    assert merged_low[0] == low[0]  # the first interval starts at the first edge
    assert merged_high[-1] == high[-1]
    assert np.array_equal(merged_low[1:], merged_high[:-1])
    assert set(merged_low) <= set(low)
    assert set(merged_high) <= set(high)
    assert sum(grouped_events(low, events, merged_low, merged_high)) == sum(events)


@settings(database=None, max_examples=300, deadline=None)
@given(cohorts)
def test_every_interval_after_the_first_starts_with_enough_units_at_risk(
    cohort: tuple[list[int], list[int], int, int],
) -> None:
    risk, events, threshold, first = cohort
    low, _ = edges(len(events), first)
    merged_low, _ = merge(risk, events, threshold, first)
    for start in merged_low[1:]:
        assert risk[int(np.flatnonzero(low == start)[0])] >= threshold


@settings(database=None, max_examples=300, deadline=None)
@given(cohorts)
@example(([100, 80, 60], [20, 0, 5], THRESHOLD, 0))
def test_every_interval_carries_no_event_or_enough_events(
    cohort: tuple[list[int], list[int], int, int],
) -> None:
    risk, events, threshold, first = cohort
    if sum(events) < threshold:
        return  # no grouping can pass: the table carries fewer events than the threshold
    low, _ = edges(len(events), first)
    merged_low, merged_high = merge(risk, events, threshold, first)
    for carried in grouped_events(low, events, merged_low, merged_high):
        assert carried == 0 or carried >= threshold


# --- examples ---------------------------------------------------------------------------------


def test_no_interval_gives_no_interval() -> None:
    low, high = _merged(np.zeros(0), np.zeros(0), np.zeros(0), np.zeros(0), THRESHOLD)
    assert (low.size, high.size) == (0, 0)


def test_intervals_all_short_of_events_make_one() -> None:
    low, high = merge([100, 90, 80, 70], [1, 2, 3, 4])
    assert (low.tolist(), high.tolist()) == ([0.0], [4 * WIDTH])


def test_intervals_that_pass_stay_as_they_are() -> None:
    low, high = merge([100, 80, 60], [12, 0, 11])
    assert low.tolist() == [0.0, WIDTH, 2 * WIDTH]
    assert high.tolist() == [WIDTH, 2 * WIDTH, 3 * WIDTH]


def test_a_short_interval_is_joined_to_the_next() -> None:
    low, high = merge([100, 80, 60, 50], [4, 8, 15, 12])
    assert low.tolist() == [0.0, 2 * WIDTH, 3 * WIDTH]
    assert high.tolist() == [2 * WIDTH, 3 * WIDTH, 4 * WIDTH]


def test_a_short_last_interval_is_joined_to_the_one_before() -> None:
    low, high = merge([100, 80, 60], [12, 11, 3])
    assert low.tolist() == [0.0, WIDTH]
    assert high.tolist() == [WIDTH, 3 * WIDTH]


def test_an_interval_with_few_units_at_risk_is_joined_to_the_one_before() -> None:
    low, high = merge([100, 80, 5], [12, 11, 0])
    assert low.tolist() == [0.0, WIDTH]
    assert high.tolist() == [WIDTH, 3 * WIDTH]
