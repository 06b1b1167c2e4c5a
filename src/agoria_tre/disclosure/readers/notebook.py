"""Jupyter notebooks, rebuilt from what can be checked and nothing else.

The canonical notebook keeps, for each cell, its type and source, and for code cells the
outputs of allowed types: text streams, errors (as text) and rich outputs whose MIME types
are ``text/plain``, ``text/html``, ``text/markdown``, ``image/png``, ``image/jpeg`` and
``application/json``. Metadata, attachments, widget state, execution counts and unknown
outputs are dropped. Nothing in a notebook is ever executed.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from agoria_tre.disclosure.policy import Limits
from agoria_tre.disclosure.report import RuleResult, flagged
from agoria_tre.disclosure.status import Status

TEXT_TYPES = ("text/plain", "text/markdown", "text/html", "application/json")
IMAGE_TYPES = ("image/png", "image/jpeg")
ALLOWED_TYPES = (*TEXT_TYPES, *IMAGE_TYPES)


@dataclass(frozen=True)
class Output:
    """One output of one code cell, as the checker sees it (``cell N / output M``)."""

    cell: int
    index: int
    mime: str
    text: str | None = None
    image: bytes | None = None
    html: str | None = None

    @property
    def where(self) -> str:
        return f"cell {self.cell} / output {self.index}"


@dataclass
class Notebook:
    canonical: bytes
    sources: list[tuple[int, str, str]]  # (cell number, cell type, source)
    outputs: list[Output]
    dropped: list[str] = field(default_factory=list)


def _text(value: object) -> str:
    if isinstance(value, list):
        return "".join(str(v) for v in value)
    return value if isinstance(value, str) else ""


def _depth(value: object, limit: int) -> bool:
    """Whether ``value`` nests no deeper than ``limit`` (iteratively: no recursion)."""
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return False
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
    return True


def load_json(data: bytes, limits: Limits, *, what: str) -> Any | RuleResult:
    """Parse untrusted JSON within the size and nesting limits; refusals as failing rules."""
    if len(data) > limits.max_bytes:
        return flagged(
            "file.limits",
            Status.FAIL,
            f"the {what} has {len(data):,} bytes, over the limit of {limits.max_bytes:,}",
        )
    try:
        value = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        return flagged("file.type", Status.FAIL, f"type not allowed: the {what} is not UTF-8 text")
    except RecursionError:
        return flagged(
            "file.limits",
            Status.FAIL,
            f"the {what} is nested deeper than {limits.max_depth} levels",
        )
    except json.JSONDecodeError as exc:
        return flagged(
            "file.unreadable",
            Status.FAIL,
            f"the {what} is not valid JSON (line {exc.lineno}: {exc.msg})",
        )
    if not _depth(value, limits.max_depth):
        return flagged(
            "file.limits",
            Status.FAIL,
            f"the {what} is nested deeper than {limits.max_depth} levels",
        )
    return value


def _outputs(cell: dict[str, Any], number: int, dropped: list[str]) -> Iterator[dict[str, Any]]:
    for index, output in enumerate(cell.get("outputs") or [], start=1):
        if not isinstance(output, dict):
            dropped.append(f"cell {number} / output {index}: not an output")
            continue
        kind = output.get("output_type")
        if kind == "stream":
            yield {
                "output_type": "stream",
                "name": str(output.get("name", "stdout")),
                "text": _text(output.get("text")),
            }
        elif kind == "error":
            traceback = "\n".join(_text(line) for line in output.get("traceback") or [])
            yield {
                "output_type": "error",
                "ename": _text(output.get("ename")),
                "evalue": _text(output.get("evalue")),
                "traceback": traceback,
            }
        elif kind in ("execute_result", "display_data"):
            data = output.get("data")
            if not isinstance(data, dict):
                dropped.append(f"cell {number} / output {index}: no data")
                continue
            kept = {m: data[m] for m in ALLOWED_TYPES if m in data}
            for mime in sorted(set(data) - set(kept)):
                dropped.append(f"cell {number} / output {index}: {mime}")
            if kept:
                yield {"output_type": "display_data", "data": kept}
        else:
            dropped.append(f"cell {number} / output {index}: output type {kind!r}")


def read_notebook(data: bytes, limits: Limits) -> Notebook | RuleResult:
    value = load_json(data, limits, what="notebook")
    if isinstance(value, RuleResult):
        return value
    if not isinstance(value, dict) or not isinstance(value.get("cells"), list):
        return flagged("file.unreadable", Status.FAIL, "not a notebook: no list of cells")
    dropped: list[str] = []
    cells_out: list[dict[str, Any]] = []
    sources: list[tuple[int, str, str]] = []
    outputs: list[Output] = []
    if "metadata" in value:
        dropped.append("notebook metadata")
    for number, cell in enumerate(value["cells"], start=1):
        if not isinstance(cell, dict):
            return flagged("file.unreadable", Status.FAIL, f"not a notebook: cell {number}")
        cell_type = cell.get("cell_type")
        if cell_type not in ("code", "markdown", "raw"):
            dropped.append(f"cell {number}: cell type {cell_type!r}")
            continue
        source = _text(cell.get("source"))
        sources.append((number, str(cell_type), source))
        if cell.get("attachments"):
            dropped.append(f"cell {number}: attachments")
        canonical_cell: dict[str, Any] = {"cell_type": cell_type, "source": source}
        if cell_type == "code":
            kept = list(_outputs(cell, number, dropped))
            canonical_cell["outputs"] = kept
            for index, output in enumerate(kept, start=1):
                if len(outputs) >= limits.max_outputs:
                    return flagged(
                        "file.limits",
                        Status.FAIL,
                        f"the notebook has more than {limits.max_outputs:,} outputs",
                    )
                outputs.extend(_as_outputs(output, number, index))
        cells_out.append(canonical_cell)
    canonical = {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": cells_out}
    return Notebook(
        canonical=json.dumps(canonical, ensure_ascii=False, indent=1, sort_keys=True).encode(),
        sources=sources,
        outputs=outputs,
        dropped=dropped,
    )


def _as_outputs(output: dict[str, Any], cell: int, index: int) -> Iterator[Output]:
    kind = output["output_type"]
    if kind == "stream":
        yield Output(cell, index, "text/plain", text=output["text"])
        return
    if kind == "error":
        text = f"{output['ename']}: {output['evalue']}\n{output['traceback']}"
        yield Output(cell, index, "text/plain", text=text)
        return
    data = output["data"]
    # One item per output: the richest form the checker understands.
    for mime in ("image/png", "image/jpeg"):
        if mime in data:
            try:
                image = base64.b64decode(_text(data[mime]), validate=False)
            except (binascii.Error, ValueError):
                image = b""
            yield Output(cell, index, mime, image=image, text=_text(data.get("text/plain")))
            return
    for mime in ("text/html", "application/json", "text/markdown", "text/plain"):
        if mime in data:
            raw = data[mime]
            text = raw if mime != "application/json" or isinstance(raw, str) else json.dumps(raw)
            plain = _text(data.get("text/plain")) if mime != "text/plain" else ""
            html = _text(raw) if mime == "text/html" else None
            yield Output(
                cell, index, mime, text=_text(text) + ("\n" + plain if plain else ""), html=html
            )
            return
