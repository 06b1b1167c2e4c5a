"""The rules on a table's cells (rules/tables.py) at and around every threshold: counts, zeros,
class disclosure, dominance, p%, negative and missing values, and the primary mask."""

from __future__ import annotations

import numpy as np
import pytest

from agoria_tre.disclosure.policy import load_profile
from agoria_tre.disclosure.rules import tables
from agoria_tre.disclosure.status import Status

FR = load_profile("fr")
UK = load_profile("uk")


def arr(*rows: list[float]) -> np.ndarray:
    return np.array(rows, dtype=float)


@pytest.mark.parametrize(
    ("count", "fr", "uk"),
    [(9, Status.FAIL, Status.FAIL), (10, Status.FAIL, Status.PASS), (11, Status.PASS, Status.PASS),
     (12, Status.PASS, Status.PASS), (1, Status.FAIL, Status.FAIL)],
)  # fmt: skip
def test_threshold_at_and_around(count: int, fr: Status, uk: Status) -> None:
    counts = arr([count, 50], [60, 70])
    for policy, expected in ((FR, fr), (UK, uk)):
        result = tables.threshold(counts, policy)
        assert result.status is expected
        assert result.cells == (((0, 0),) if expected is Status.FAIL else ())
        if expected is Status.FAIL:
            assert f"fewer than {policy.threshold} units" in result.summary


def test_zeros_review_in_fr_and_fail_under_threshold_in_uk() -> None:
    counts = arr([0, 50], [60, 70])
    assert tables.threshold(counts, FR).status is Status.PASS
    zeros = tables.zeros_and_class_disclosure(counts, FR)[0]
    assert (zeros.rule, zeros.status, zeros.cells) == ("zeros", Status.REVIEW, ((0, 0),))
    uk = tables.threshold(counts, UK)
    assert (uk.status, uk.cells) == (Status.FAIL, ((0, 0),))
    assert "zeros included" in uk.summary


def test_class_disclosure_full_row_and_column() -> None:
    # Row 0: all its units in column 1. Columns 0 and 2: all their units in row 1.
    counts = arr([0, 50, 0], [20, 30, 40])
    results = {r.rule: r for r in tables.zeros_and_class_disclosure(counts, FR)}
    assert results["class_disclosure"].status is Status.REVIEW
    assert results["class_disclosure"].cells == ((0, 0), (0, 1), (0, 2), (1, 0), (1, 2))
    assert "row 0, column 0, column 2" in results["class_disclosure"].summary
    assert tables.zeros_and_class_disclosure(arr([5, 50, 7], [20, 30, 40]), FR)[-1].status is (
        Status.PASS
    )


def test_margins_are_not_groups() -> None:
    counts = arr([15, 0, 15], [20, 30, 50], [35, 30, 65])
    results = tables.zeros_and_class_disclosure(counts, FR, margin_rows=[2], margin_columns=[2])
    by_rule = {r.rule: r for r in results}
    # Row 0 and column 1 are all in one cell; the margins row and column are ignored.
    assert by_rule["class_disclosure"].cells == ((0, 0), (0, 1), (1, 1))


def _top(*cells: list[float]) -> np.ndarray:
    return np.array([[list(c) for c in cells]], dtype=float)


@pytest.mark.parametrize(
    ("top1", "top2", "total", "fr", "uk"),
    [
        (60.0, 25.0, 100.0, Status.FAIL, Status.PASS),  # exactly 0.85: >= fails in fr
        (60.0, 24.9, 100.0, Status.PASS, Status.PASS),
        (60.0, 30.0, 100.0, Status.FAIL, Status.FAIL),  # exactly 0.90
        (60.0, 29.9, 100.0, Status.FAIL, Status.PASS),
    ],
)
def test_dominance_exactly_at_k(
    top1: float, top2: float, total: float, fr: Status, uk: Status
) -> None:
    totals = arr([total])
    top = _top([top1, top2])
    assert tables.dominance(totals, top, FR).status is fr
    assert tables.dominance(totals, top, UK).status is uk


@pytest.mark.parametrize(
    ("top1", "top2", "total", "expected"),
    [
        (50.0, 10.0, 65.0, Status.PASS),  # (65-50-10)/50 = 0.10: not below p
        (50.0, 10.0, 64.9, Status.FAIL),  # 0.098 < 0.10
        (50.0, 0.0, 50.0, Status.FAIL),  # a single contributor
    ],
)
def test_p_percent_boundary(top1: float, top2: float, total: float, expected: Status) -> None:
    result = tables.p_percent(arr([total]), _top([top1, top2]), FR)
    assert result.status is expected
    assert result.cells == (((0, 0),) if expected is Status.FAIL else ())


def test_negative_and_missing() -> None:
    negative = np.array([[True, False]])
    assert tables.negative_values(negative, FR).status is Status.REVIEW
    assert tables.negative_values(negative, FR).cells == ((0, 0),)
    assert tables.missing_values(np.array([[False, False]]), FR).status is Status.PASS


@pytest.mark.parametrize("profile", ["fr", "uk"])
def test_primary_mask_is_the_union_of_the_rules_cells(profile: str) -> None:
    """``safe``'s suppression and the checker use one definition of a failing cell,
    negative and zero contributions included."""
    policy = load_profile(profile)
    rng = np.random.default_rng(7)
    for _ in range(50):
        shape = (int(rng.integers(1, 6)), int(rng.integers(1, 6)))
        counts = rng.integers(0, 25, size=shape).astype(float)
        top = np.sort(rng.normal(50, 80, size=(*shape, 2)), axis=2)[:, :, ::-1]
        total = top.sum(axis=2) + rng.normal(100, 150, size=shape)
        expected = np.zeros(shape, dtype=bool)
        for result in (
            tables.threshold(counts, policy),
            tables.dominance(total, top, policy),
            tables.p_percent(total, top, policy),
        ):
            for row, col in result.cells:
                expected[row, col] = True
        mask = tables.primary_mask(counts, total, top, policy)
        assert (mask == expected).all()
        assert (
            tables.primary_mask(counts, None, None, policy) == tables.threshold_mask(counts, policy)
        ).all()
