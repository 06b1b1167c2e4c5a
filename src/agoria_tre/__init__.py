"""Agoria TRE: a sovereign trusted research environment for pseudonymised health data."""

from __future__ import annotations

__version__ = "0.1.0"
