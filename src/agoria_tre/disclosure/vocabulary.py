"""Sets of words, written as one string of words as they are read in the code."""

from __future__ import annotations


def vocabulary(text: str) -> frozenset[str]:
    """The set of the whitespace-separated words of ``text``."""
    return frozenset(text.split())
