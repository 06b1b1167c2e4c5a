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
from agoria_tre.disclosure.readers.image import canonical_image
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
    image: bytes | None = None  # the re-encoded image: what is kept and released
    html: str | None = None
    primary: str | None = None  # the kept representation, as text
    plain: str = ""  # the kept text/plain companion
    kind: str = "display"
    failure: RuleResult | None = None  # the image could not be re-encoded

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
    outputs = cell.get("outputs") or []
    if not isinstance(outputs, list):
        dropped.append(f"cell {number}: outputs that are not a list")
        return
    for index, output in enumerate(outputs, start=1):
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
            lines = output.get("traceback") or []
            traceback = "\n".join(
                _text(line) for line in (lines if isinstance(lines, list) else [lines])
            )
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
    """Parse a notebook and rebuild it from exactly what will be checked.

    Each output keeps one representation, the one the checker reads (an image, else HTML,
    JSON, Markdown or plain text), plus its plain-text form when that is text; images are
    replaced by their re-encoded pixels. So the canonical notebook holds nothing unchecked.
    """
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
            canonical_outputs: list[dict[str, Any]] = []
            for index, output in enumerate(_outputs(cell, number, dropped), start=1):
                if len(outputs) >= limits.max_outputs:
                    return flagged(
                        "file.limits",
                        Status.FAIL,
                        f"the notebook has more than {limits.max_outputs:,} outputs",
                    )
                checked = _as_output(output, number, index, limits, dropped)
                if checked is None:
                    continue
                outputs.append(checked)
                canonical_outputs.append(_canonical_output(checked))
            canonical_cell["outputs"] = canonical_outputs
        cells_out.append(canonical_cell)
    canonical = {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": cells_out}
    return Notebook(
        canonical=json.dumps(canonical, ensure_ascii=False, indent=1, sort_keys=True).encode(),
        sources=sources,
        outputs=outputs,
        dropped=dropped,
    )


def _canonical_output(output: Output) -> dict[str, Any]:
    if output.kind == "stream":
        return {"output_type": "stream", "name": "stdout", "text": output.text or ""}
    data: dict[str, Any] = {}
    if output.image is not None:
        data[output.mime] = base64.b64encode(output.image).decode("ascii")
    elif output.primary is not None:
        data[output.mime] = output.primary
    if output.plain:
        data["text/plain"] = output.plain
    return {"output_type": "display_data", "data": data}


def _as_output(
    output: dict[str, Any], cell: int, index: int, limits: Limits, dropped: list[str]
) -> Output | None:
    """The one representation of ``output`` that is checked, and kept."""
    kind = output["output_type"]
    if kind == "stream":
        return Output(cell, index, "text/plain", text=output["text"], kind="stream")
    if kind == "error":
        text = f"{output['ename']}: {output['evalue']}\n{output['traceback']}"
        return Output(cell, index, "text/plain", text=text, kind="stream")
    data = output["data"]
    raw_plain = data.get("text/plain")
    plain = _text(raw_plain) if isinstance(raw_plain, str | list) else ""
    for mime in ("image/png", "image/jpeg"):
        if mime in data:
            others = sorted(set(data) - {mime, "text/plain"})
            dropped += [f"cell {cell} / output {index}: {m} (an image was kept)" for m in others]
            try:
                raw = base64.b64decode(_text(data[mime]), validate=False)
            except (binascii.Error, ValueError):
                raw = b""
            image = canonical_image(raw, limits, name=f"cell {cell} / output {index}")
            return Output(
                cell,
                index,
                mime,
                image=image.canonical,
                text=plain,
                plain=plain,
                failure=image.failure,
            )
    for mime in ("text/html", "application/json", "text/markdown", "text/plain"):
        if mime not in data:
            continue
        others = sorted(set(data) - {mime, "text/plain"})
        dropped += [f"cell {cell} / output {index}: {m} ({mime} was kept)" for m in others]
        raw = data[mime]
        if mime == "application/json":
            primary = raw if isinstance(raw, str) else json.dumps(raw, ensure_ascii=False)
        elif isinstance(raw, str | list):
            primary = _text(raw)
        else:
            dropped.append(f"cell {cell} / output {index}: {mime} that is not text")
            continue
        keep_plain = plain if mime != "text/plain" else ""
        return Output(
            cell,
            index,
            mime,
            text=primary + ("\n" + keep_plain if keep_plain else ""),
            html=primary if mime == "text/html" else None,
            primary=primary,
            plain=keep_plain,
        )
    return None
