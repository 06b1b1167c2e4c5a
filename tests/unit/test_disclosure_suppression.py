"""Secondary suppression: feasible ranges by linear programming, the rule, and the chooser."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.typing import NDArray

from agoria_tre.disclosure.policy import Policy, load_profile
from agoria_tre.disclosure.report import RuleResult
from agoria_tre.disclosure.rules.suppression import (
    RULE,
    InconsistentTable,
    check_secondary_suppression,
    choose_secondary,
    feasible_ranges,
    published_margins,
)
from agoria_tre.disclosure.status import Status

NAN = np.nan
INF = np.inf
POLICY = load_profile("fr")


def _array(rows: list[list[float]]) -> NDArray[np.float64]:
    return np.array(rows, dtype=np.float64)


def _hide(counts: NDArray[np.float64], mask: NDArray[np.bool_]) -> NDArray[np.float64]:
    return np.where(mask, NAN, counts)


def _check_published(
    counts: NDArray[np.float64], mask: NDArray[np.bool_], policy: Policy = POLICY
) -> RuleResult:
    """The rule on ``counts`` released with ``mask`` hidden and the helpers' margins."""
    rows, cols, grand = published_margins(counts)
    return check_secondary_suppression(
        _hide(counts, mask),
        mask,
        row_totals=rows,
        col_totals=cols,
        grand_total=grand,
        bounds=None,
        policy=policy,
    )


# A 2x2 table: [[5, 20], [30, 40]], margins 25, 70 / 35, 60, grand total 95.
SMALL = _array([[5, 20], [30, 40]])
SMALL_HIDDEN = np.array([[False, False], [True, False]])
SMALL_VALUES = _hide(SMALL, SMALL_HIDDEN)

# A 3x3 table whose top-left 2x2 block is hidden.
BLOCK = _array([[3, 20, 7], [40, 50, 12], [15, 25, 30]])
BLOCK_HIDDEN = np.array([[True, True, False], [True, True, False], [False, False, False]])


def _block_check(
    counts: NDArray[np.float64], bounds: NDArray[np.float64] | None = None
) -> tuple[NDArray[np.float64], RuleResult]:
    rows, cols = counts.sum(axis=1), counts.sum(axis=0)
    values = _hide(counts, BLOCK_HIDDEN)
    ranges = feasible_ranges(
        values,
        BLOCK_HIDDEN,
        row_totals=rows,
        col_totals=cols,
        grand_total=float(counts.sum()),
        bounds=bounds,
    )
    result = check_secondary_suppression(
        values,
        BLOCK_HIDDEN,
        row_totals=rows,
        col_totals=cols,
        grand_total=float(counts.sum()),
        bounds=bounds,
        policy=POLICY,
    )
    return ranges, result


# --- feasible ranges and the rule -------------------------------------------------------


def test_one_hidden_cell_with_both_margins_is_pinned_exactly() -> None:
    ranges = feasible_ranges(
        SMALL_VALUES,
        SMALL_HIDDEN,
        row_totals=_array([[25, 70]])[0],
        col_totals=_array([[35, 60]])[0],
        grand_total=95,
    )
    assert ranges[1, 0].tolist() == [30.0, 30.0]
    assert np.isnan(ranges[0, 0]).all()
    assert np.isnan(ranges[0, 1]).all()
    assert np.isnan(ranges[1, 1]).all()

    result = check_secondary_suppression(
        SMALL_VALUES,
        SMALL_HIDDEN,
        row_totals=_array([[25, 70]])[0],
        col_totals=_array([[35, 60]])[0],
        grand_total=95,
        bounds=None,
        policy=POLICY,
    )
    assert result.rule == RULE == "secondary_suppression"
    assert result.status is Status.FAIL
    assert result.cells == ((1, 0),)
    assert result.summary == (
        "suppressed cell (row 2, column 1) can be recomputed from the margins: it is exactly 30"
    )


def test_a_row_total_alone_pins_the_only_hidden_cell_of_its_row() -> None:
    ranges = feasible_ranges(
        SMALL_VALUES,
        SMALL_HIDDEN,
        row_totals=_array([[25, 70]])[0],
        col_totals=None,
        grand_total=None,
    )
    assert ranges[1, 0].tolist() == [30.0, 30.0]


def test_hidden_block_with_room_to_move_passes() -> None:
    ranges, result = _block_check(BLOCK)
    # One degree of freedom d: 3+d, 20-d, 40-d, 50+d with every cell >= 0: d in [-3, 20].
    assert ranges[0, 0].tolist() == [0.0, 23.0]
    assert ranges[0, 1].tolist() == [0.0, 23.0]
    assert ranges[1, 0].tolist() == [20.0, 43.0]
    assert ranges[1, 1].tolist() == [47.0, 70.0]
    assert result.status is Status.PASS
    assert result.cells == ()
    assert result.summary == (
        "4 suppressed cells cannot be recomputed closer than ±11.5 (each range at least 11 wide)"
    )


def test_hidden_block_of_small_counts_is_too_narrow() -> None:
    counts = BLOCK.copy()
    counts[0, :2] = (1, 2)
    ranges, result = _block_check(counts)
    # d in [-min(1, 50), min(2, 40)] = [-1, 2]: every corner moves by 3 at most.
    assert ranges[0, 0].tolist() == [0.0, 3.0]
    assert ranges[0, 1].tolist() == [0.0, 3.0]
    assert ranges[1, 0].tolist() == [38.0, 41.0]
    assert ranges[1, 1].tolist() == [49.0, 52.0]
    assert result.status is Status.FAIL
    assert result.cells == ((0, 0), (0, 1), (1, 0), (1, 1))
    assert result.summary == (
        "suppressed cell (row 1, column 1) can be recomputed from the margins: it lies between"
        " 0 and 3; 3 more suppressed cells lie in ranges narrower than 11"
    )


def test_below_markers_narrow_a_hidden_block_to_one_or_two() -> None:
    counts = BLOCK.copy()
    counts[0, :2] = (1, 2)
    bounds = np.full((3, 3, 2), NAN)
    bounds[0, 0] = bounds[0, 1] = (1, 10)  # both shown as "<11"
    ranges, result = _block_check(counts, bounds)
    # Now both small cells are at least 1: d in [-0, 1].
    assert ranges[0, 0].tolist() == [1.0, 2.0]
    assert ranges[0, 1].tolist() == [1.0, 2.0]
    assert ranges[1, 0].tolist() == [39.0, 40.0]
    assert ranges[1, 1].tolist() == [50.0, 51.0]
    assert result.status is Status.FAIL
    assert result.cells == ((0, 0), (0, 1), (1, 0), (1, 1))
    assert result.summary.startswith(
        "suppressed cell (row 1, column 1) can be recomputed from the margins: it lies between"
        " 1 and 2;"
    )


def test_threshold_comes_from_the_policy() -> None:
    counts = BLOCK.copy()
    counts[0, :2] = (1, 2)
    values = _hide(counts, BLOCK_HIDDEN)
    lenient = Policy(**{**POLICY.__dict__, "threshold": 3})
    result = check_secondary_suppression(
        values,
        BLOCK_HIDDEN,
        row_totals=counts.sum(axis=1),
        col_totals=counts.sum(axis=0),
        grand_total=float(counts.sum()),
        bounds=None,
        policy=lenient,
    )
    assert result.status is Status.PASS
    assert result.summary == (
        "4 suppressed cells cannot be recomputed closer than ±1.5 (each range at least 3 wide)"
    )


def test_without_margins_hidden_cells_are_unbounded() -> None:
    mask = np.array([[True, False], [False, True]])
    values = _hide(SMALL, mask)
    ranges = feasible_ranges(values, mask, row_totals=None, col_totals=None, grand_total=None)
    assert ranges[0, 0].tolist() == [0.0, INF]
    assert ranges[1, 1].tolist() == [0.0, INF]
    result = check_secondary_suppression(
        values, mask, row_totals=None, col_totals=None, grand_total=None, bounds=None, policy=POLICY
    )
    assert result.status is Status.PASS
    assert (
        result.summary == "2 suppressed cells cannot be recomputed: no published total bounds them"
    )


def test_no_hidden_cell_passes() -> None:
    result = check_secondary_suppression(
        SMALL,
        np.zeros((2, 2), dtype=bool),
        row_totals=SMALL.sum(axis=1),
        col_totals=SMALL.sum(axis=0),
        grand_total=95,
        bounds=None,
        policy=POLICY,
    )
    assert result.status is Status.PASS
    assert result.summary == "no suppressed cells: nothing to recompute"


def test_below_eleven_bounds_are_honoured() -> None:
    # One row: "<11", hidden, 40; row total 60. The hidden pair sums to 20.
    values = _array([[NAN, NAN, 40]])
    mask = np.array([[True, True, False]])
    bounds = np.full((1, 3, 2), NAN)
    bounds[0, 0] = (1, 10)
    ranges = feasible_ranges(
        values, mask, row_totals=_array([[60]])[0], col_totals=None, grand_total=None, bounds=bounds
    )
    assert ranges[0, 0].tolist() == [1.0, 10.0]
    assert ranges[0, 1].tolist() == [10.0, 19.0]
    result = check_secondary_suppression(
        values,
        mask,
        row_totals=_array([[60]])[0],
        col_totals=None,
        grand_total=None,
        bounds=bounds,
        policy=POLICY,
    )
    # The "<11" cell is no narrower than its own marker says; its neighbour is.
    assert result.status is Status.FAIL
    assert result.cells == ((0, 1),)
    assert result.summary == (
        "suppressed cell (row 1, column 2) can be recomputed from the margins: it lies between"
        " 10 and 19"
    )

    unbounded = feasible_ranges(
        values, mask, row_totals=_array([[60]])[0], col_totals=None, grand_total=None
    )
    assert unbounded[0, :2].tolist() == [[0.0, 20.0], [0.0, 20.0]]
    result = check_secondary_suppression(
        values,
        mask,
        row_totals=_array([[60]])[0],
        col_totals=None,
        grand_total=None,
        bounds=None,
        policy=POLICY,
    )
    assert result.status is Status.PASS
    assert result.summary == (
        "2 suppressed cells cannot be recomputed closer than ±10 (each range at least 11 wide)"
    )


def test_margins_that_do_not_add_up_name_the_margin() -> None:
    rows = _array([[15, 70]])[0]  # row 1 is 5 + 20 = 25, all visible
    with pytest.raises(InconsistentTable) as caught:
        feasible_ranges(
            SMALL_VALUES, SMALL_HIDDEN, row_totals=rows, col_totals=None, grand_total=None
        )
    assert str(caught.value) == "the row 1 total is 15 but its cells add up to 25"
    assert caught.value.margins == ("the row 1 total",)

    result = check_secondary_suppression(
        SMALL_VALUES,
        SMALL_HIDDEN,
        row_totals=rows,
        col_totals=_array([[35, 60]])[0],
        grand_total=None,
        bounds=None,
        policy=POLICY,
    )
    assert result.status is Status.REVIEW
    assert result.cells == ()
    assert result.summary == (
        "the margins do not add up: the row 1 total is 15 but its cells add up to 25"
    )


def test_a_total_smaller_than_its_visible_cells() -> None:
    with pytest.raises(
        InconsistentTable, match=r"^the column 1 total is 20 but its cells add up to at least 30$"
    ):
        feasible_ranges(
            _array([[NAN, 20], [30, 40]]),
            np.array([[True, False], [False, False]]),
            row_totals=None,
            col_totals=_array([[20, NAN]])[0],
            grand_total=None,
        )


def test_totals_that_contradict_each_other_are_named_together() -> None:
    # Row 2 says the hidden cell is 75 - 40 = 35, column 1 says 45 - 5 = 40.
    result = check_secondary_suppression(
        SMALL_VALUES,
        SMALL_HIDDEN,
        row_totals=_array([[25, 75]])[0],
        col_totals=_array([[45, 60]])[0],
        grand_total=None,
        bounds=None,
        policy=POLICY,
    )
    assert result.status is Status.REVIEW
    assert result.summary == (
        "the margins do not add up: the row 2 total and the column 1 total cannot both hold with"
        " the visible cells"
    )


def test_grand_total_disagreeing_with_the_line_totals() -> None:
    with pytest.raises(InconsistentTable) as caught:
        feasible_ranges(
            SMALL_VALUES,
            SMALL_HIDDEN,
            row_totals=_array([[25, 70]])[0],
            col_totals=_array([[35, 60]])[0],
            grand_total=96,
        )
    assert str(caught.value) == "the grand total is 96 but the row totals add up to 95"
    assert caught.value.margins == ("the grand total",)


def test_unknown_margins_drop_their_constraint() -> None:
    rows, cols = _array([[25, NAN]])[0], _array([[NAN, 60]])[0]
    # Row 2 and column 1 totals are hidden: nothing bounds the hidden cell...
    ranges = feasible_ranges(
        SMALL_VALUES, SMALL_HIDDEN, row_totals=rows, col_totals=cols, grand_total=None
    )
    assert ranges[1, 0].tolist() == [0.0, INF]
    # ... but the grand total still gives it away: 95 - 5 - 20 - 40.
    ranges = feasible_ranges(
        SMALL_VALUES, SMALL_HIDDEN, row_totals=rows, col_totals=cols, grand_total=95
    )
    assert ranges[1, 0].tolist() == [30.0, 30.0]
    result = check_secondary_suppression(
        SMALL_VALUES,
        SMALL_HIDDEN,
        row_totals=rows,
        col_totals=cols,
        grand_total=95,
        bounds=None,
        policy=POLICY,
    )
    assert result.status is Status.FAIL
    assert result.cells == ((1, 0),)


def test_hidden_margins_with_bounds_become_variables() -> None:
    rows, cols = _array([[25, NAN]])[0], _array([[NAN, 60]])[0]
    bounds = np.full((3, 3, 2), NAN)
    bounds[1, 2] = (NAN, 50)  # the row 2 total is shown as "<=50"
    ranges = feasible_ranges(
        SMALL_VALUES,
        SMALL_HIDDEN,
        row_totals=rows,
        col_totals=cols,
        grand_total=None,
        bounds=bounds,
    )
    assert ranges[1, 0].tolist() == [0.0, 10.0]

    grand_only = np.full((3, 3, 2), NAN)
    grand_only[2, 2] = (NAN, 100)  # a hidden grand total shown as "<=100": 5 + 20 + 40 + x
    ranges = feasible_ranges(
        SMALL_VALUES,
        SMALL_HIDDEN,
        row_totals=rows,
        col_totals=cols,
        grand_total=NAN,
        bounds=grand_only,
    )
    assert ranges[1, 0].tolist() == [0.0, 35.0]

    bounds[1, 2] = (NAN, 29)
    with pytest.raises(InconsistentTable) as caught:
        feasible_ranges(
            SMALL_VALUES,
            SMALL_HIDDEN,
            row_totals=rows,
            col_totals=cols,
            grand_total=None,
            bounds=bounds,
        )
    assert str(caught.value) == (
        "the row 2 total lies between 0 and 29 but its cells add up to at least 40"
    )


def test_independent_blocks_and_lines_without_hidden_cells() -> None:
    # Two hidden pairs in separate rows, no column totals: each row is its own programme.
    counts = _array([[4, 9, 30], [50, 8, 7]])
    mask = np.array([[True, True, False], [False, True, True]])
    ranges = feasible_ranges(
        _hide(counts, mask),
        mask,
        row_totals=counts.sum(axis=1),
        col_totals=None,
        grand_total=None,
    )
    assert ranges[0, 0].tolist() == [0.0, 13.0]
    assert ranges[0, 1].tolist() == [0.0, 13.0]
    assert ranges[1, 1].tolist() == [0.0, 15.0]
    assert ranges[1, 2].tolist() == [0.0, 15.0]


def test_non_integral_ranges_are_printed_as_decimals() -> None:
    counts = _array([[2.5, 9.25, 30]])
    mask = np.array([[True, True, False]])
    lenient = Policy(**{**POLICY.__dict__, "threshold": 12})
    result = check_secondary_suppression(
        _hide(counts, mask),
        mask,
        row_totals=counts.sum(axis=1),
        col_totals=None,
        grand_total=None,
        bounds=None,
        policy=lenient,
    )
    assert result.status is Status.FAIL
    assert result.summary == (
        "suppressed cell (row 1, column 1) can be recomputed from the margins: it lies between"
        " 0 and 11.75; 1 more suppressed cell lie in ranges narrower than 12"
    )


def test_malformed_inputs_are_refused() -> None:
    with pytest.raises(ValueError, match="neither suppressed nor a finite number"):
        feasible_ranges(
            _array([[NAN, 1]]),
            np.array([[False, False]]),
            row_totals=None,
            col_totals=None,
            grand_total=None,
        )
    with pytest.raises(ValueError, match="row_totals must have shape"):
        feasible_ranges(
            SMALL_VALUES,
            SMALL_HIDDEN,
            row_totals=_array([[1, 2, 3]])[0],
            col_totals=None,
            grand_total=None,
        )
    bounds = np.full((2, 2, 2), NAN)
    bounds[1, 0] = (5, 4)
    with pytest.raises(ValueError, match=r"lower 5\.0 > upper 4\.0"):
        feasible_ranges(
            SMALL_VALUES,
            SMALL_HIDDEN,
            row_totals=None,
            col_totals=None,
            grand_total=None,
            bounds=bounds,
        )


# --- choosing secondary suppressions ----------------------------------------------------


def _choose_and_check(
    counts: NDArray[np.float64], primary: NDArray[np.bool_], threshold: int = 11
) -> NDArray[np.bool_]:
    mask = choose_secondary(counts, primary, threshold=threshold)
    assert mask.dtype == np.bool_
    assert mask.shape == counts.shape
    assert (mask | ~primary).all(), "the primary suppressions must stay hidden"
    result = _check_published(counts, mask)
    assert result.status is Status.PASS, result.summary
    return mask


def test_published_margins_skip_single_lines() -> None:
    rows, cols, grand = published_margins(SMALL)
    assert rows is not None
    assert cols is not None
    assert rows.tolist() == [25.0, 70.0]
    assert cols.tolist() == [35.0, 60.0]
    assert grand == 95.0
    assert published_margins(_array([[1, 2, 3]]))[1:] == (None, None)
    one_row_totals = published_margins(_array([[1, 2, 3]]))[0]
    assert one_row_totals is not None
    assert one_row_totals.tolist() == [6.0]
    assert published_margins(SMALL, with_margins=False) == (None, None, None)


def test_one_row_table_hides_the_cheapest_partner() -> None:
    counts = _array([[5, 20, 30, 50]])
    mask = _choose_and_check(counts, np.array([[True, False, False, False]]))
    assert mask.tolist() == [[True, True, False, False]]


def test_one_row_table_where_only_the_whole_row_will_do() -> None:
    counts = _array([[2, 3, 4, 30]])
    mask = _choose_and_check(counts, np.array([[True, True, True, False]]))
    assert mask.tolist() == [[True, True, True, True]]
    rows, _, _ = published_margins(counts)
    ranges = feasible_ranges(
        _hide(counts, mask), mask, row_totals=rows, col_totals=None, grand_total=None
    )
    assert ranges[0].tolist() == [[0.0, 39.0]] * 4


def test_two_by_two_table_needs_every_cell() -> None:
    counts = _array([[3, 20], [25, 40]])
    mask = _choose_and_check(counts, np.array([[True, False], [False, False]]))
    assert mask.all()


def test_the_cheapest_rectangle_is_chosen() -> None:
    counts = _array([[3, 30, 45], [40, 50, 12], [15, 25, 60]])
    primary = np.zeros((3, 3), dtype=bool)
    primary[0, 0] = True
    mask = _choose_and_check(counts, primary)
    # Rectangles through (1, 1): cost 30 + 15 + 25 = 70 beats 97 and 120.
    assert mask.tolist() == [[True, True, False], [False, False, False], [True, True, False]]
    rows, cols, grand = published_margins(counts)
    ranges = feasible_ranges(
        _hide(counts, mask), mask, row_totals=rows, col_totals=cols, grand_total=grand
    )
    assert ranges[0, 0].tolist() == [0.0, 18.0]
    assert ranges[2, 1].tolist() == [22.0, 40.0]


def test_no_rectangle_suffices_so_cells_are_added_one_by_one() -> None:
    counts = _array([[2, 6, 6], [6, 6, 6], [6, 6, 6]])
    primary = counts < 3
    mask = _choose_and_check(counts, primary)
    assert mask.tolist() == [[True, True, True], [True, True, True], [True, True, False]]


def test_nothing_to_protect_or_no_margins() -> None:
    counts = _array([[3, 20], [25, 40]])
    none = np.zeros((2, 2), dtype=bool)
    assert not choose_secondary(counts, none, threshold=11).any()
    primary = np.array([[True, False], [False, False]])
    assert choose_secondary(counts, primary, threshold=11, with_margins=False).tolist() == (
        primary.tolist()
    )


def test_hopeless_table_ends_with_everything_hidden() -> None:
    # The second row totals 2: no suppression pattern can hide a count in it.
    counts = _array([[50, 1], [1, 1]])
    primary = counts < 11
    mask = choose_secondary(counts, primary, threshold=11)
    assert mask.all()
    assert _check_published(counts, mask).status is Status.FAIL


def _random_table(
    rng: np.random.Generator, shape: tuple[int, int], small: float
) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """Counts of about 30 with some 1 to 10 (the primary suppressions).

    Tables with a row or column total under the threshold are drawn again: such a total
    would itself be suppressed, and no choice of interior cells can protect its line.
    """
    while True:
        counts = rng.poisson(30, size=shape).astype(np.float64)
        few = rng.integers(1, 11, size=shape).astype(np.float64)
        counts = np.where(rng.random(shape) < small, few, counts)
        if counts.sum(axis=0).min() >= 11 and counts.sum(axis=1).min() >= 11:
            return counts, (counts > 0) & (counts < 11)


@pytest.mark.parametrize("shape", [(2, 5), (3, 4), (5, 5), (8, 6), (12, 10), (1, 9)])
def test_random_tables_are_protected(shape: tuple[int, int]) -> None:
    rng = np.random.default_rng(20240611)
    for _ in range(5):
        counts, primary = _random_table(rng, shape, small=0.25)
        mask = _choose_and_check(counts, primary)
        assert (mask == choose_secondary(counts, primary, threshold=11)).all()  # deterministic


def test_forty_by_forty_table_finishes() -> None:
    rng = np.random.default_rng(7)
    counts, primary = _random_table(rng, (40, 40), small=0.08)
    assert primary.sum() == 133
    mask = _choose_and_check(counts, primary)
    assert mask.sum() >= primary.sum()
