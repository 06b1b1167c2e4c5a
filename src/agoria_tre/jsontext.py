"""JSON conventions shared by the audit log and the command line."""

from __future__ import annotations

from datetime import date, datetime


def json_default(value: object) -> str:
    """Dates and times as ISO 8601; anything else that is not JSON is a programming error."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"not a JSON value: {type(value).__name__}")
