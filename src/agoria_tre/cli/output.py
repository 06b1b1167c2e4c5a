"""Printing for the command line: aligned tables for people, JSON for scripts."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

import click

from agoria_tre.jsontext import json_default


def _plain(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%SZ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return ", ".join(_plain(v) for v in value) or "-"
    return str(value)


def emit_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=json_default))


def emit_table(
    rows: Iterable[Mapping[str, Any]], columns: Sequence[str], *, empty: str = "(none)"
) -> None:
    cells = [[_plain(row.get(col)) for col in columns] for row in rows]
    if not cells:
        click.echo(empty)
        return
    headers = [c.upper().replace("_", " ") for c in columns]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]
    for line in [headers, *cells]:
        click.echo("  ".join(v.ljust(w) for v, w in zip(line, widths, strict=True)).rstrip())


def emit_fields(fields: Mapping[str, Any]) -> None:
    width = max(len(k) for k in fields)
    for key, value in fields.items():
        click.echo(f"{key.replace('_', ' ').ljust(width)}  {_plain(value)}")


def fail(message: str, code: int = 2) -> None:
    """One line on stderr, then exit: the CLI's only way of refusing."""
    print(f"agoria-tre: error: {message}", file=sys.stderr)
    sys.exit(code)
