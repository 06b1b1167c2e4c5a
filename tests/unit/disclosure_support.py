"""What the disclosure tests share: check a file's content, the worst status of each rule,
notebooks built cell by cell, a PNG, and a synthetic frame of hospital stays to print tables
from."""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from PIL import Image, PngImagePlugin

from agoria_tre.disclosure.checker import Context, check_bytes
from agoria_tre.disclosure.policy import load_profile
from agoria_tre.disclosure.report import ItemReport, RuleResult, walk
from agoria_tre.disclosure.status import Status

FR = Context(load_profile("fr"))
EXAMPLES = Path(__file__).resolve().parents[1] / "data" / "disclosure"


def example(path: str) -> str:
    """The text of a labelled example file, ``<rule>/<status>/<file>`` under
    tests/data/disclosure."""
    return (EXAMPLES / path).read_text()


def check(name: str, data: str | bytes, evidence: Mapping[str, Any] | None = None) -> ItemReport:
    """The report on one file named ``name`` (its name chooses the reader), with ``evidence``
    as its sidecar when given."""
    raw = data.encode() if isinstance(data, str) else data
    sidecar = json.dumps(evidence).encode() if evidence is not None else None
    return check_bytes(name, raw, FR, evidence=sidecar).report


def rules(item: ItemReport) -> dict[str, RuleResult]:
    """The item's own results (not its children's), by rule."""
    return {r.rule: r for r in item.rules}


def found(item: ItemReport) -> dict[str, Status]:
    """Every rule of the item and its children, with its worst status."""
    order = [Status.PASS, Status.REVIEW, Status.FAIL]
    worst: dict[str, Status] = {}
    for node in walk([item]):
        for r in node.rules:
            if order.index(r.status) >= order.index(worst.get(r.rule, Status.PASS)):
                worst[r.rule] = r.status
    return worst


def flagged_rules(item: ItemReport) -> set[str]:
    return {rule for rule, status in found(item).items() if status is not Status.PASS}


def failed(item: ItemReport) -> set[str]:
    """The rules that fail somewhere in the item or its children."""
    return {rule for rule, status in found(item).items() if status is Status.FAIL}


def flagged_results(item: ItemReport) -> dict[str, RuleResult]:
    """The results that do not pass, in the item and its children, by rule."""
    return {r.rule: r for one in walk([item]) for r in one.rules if r.status is not Status.PASS}


def summaries(item: ItemReport) -> str:
    """Every summary of the item and its children, one a line."""
    return "\n".join(r.summary for node in walk([item]) for r in node.rules)


_HINT_WORDS = {
    "count": "small count",
    "extreme": "minim",
    "quantile": "median",
    "age": "age",
}


def hints_of(item: ItemReport) -> set[str]:
    """The kinds of prose hints (``count``, ``extreme``, ``quantile``, ``age``) the item's
    ``prose.hints`` results name, each result carrying the spans of its passages."""
    kinds: set[str] = set()
    for node in walk([item]):
        for r in node.rules:
            if r.rule == "prose.hints" and r.status is Status.REVIEW:
                assert r.spans, r.summary
                kinds |= {kind for kind, word in _HINT_WORDS.items() if word in r.summary}
    return kinds


# --- notebooks --------------------------------------------------------------------------------


def notebook(*cells: tuple[str, Any], markdown: tuple[str, ...] = ()) -> str:
    """A notebook of ``markdown`` cells, then one code cell for each ``(source, output)``: an
    output is a text shown as the cell's result, an output dict as it is, or None (no
    output)."""
    built: list[dict[str, Any]] = [
        {"cell_type": "markdown", "source": text, "metadata": {}} for text in markdown
    ]
    for source, output in cells:
        if isinstance(output, dict):
            outputs = [output]
        elif output is None:
            outputs = []
        else:
            outputs = [
                {"output_type": "execute_result", "data": {"text/plain": output}, "metadata": {}}
            ]
        built.append({"cell_type": "code", "source": source, "outputs": outputs, "metadata": {}})
    return json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": built})


def notebook_of(cells: list[dict[str, Any]], **extra: Any) -> bytes:
    """A notebook of the cells given as nbformat writes them."""
    return json.dumps(
        {"nbformat": 4, "nbformat_minor": 5, "metadata": {"kernel": "x"}, "cells": cells, **extra}
    ).encode()


def stream(text: str) -> dict[str, Any]:
    """What ``print(...)`` writes to a cell's output."""
    return {"output_type": "stream", "name": "stdout", "text": text}


def figure(image: bytes, more: Mapping[str, str] | None = None) -> dict[str, Any]:
    """What a plot displays in a cell's output: the PNG, base64-encoded, beside its text
    form and the ``more`` forms given by MIME type."""
    data = {"image/png": base64.b64encode(image).decode(), "text/plain": "<Figure>"}
    return {"output_type": "display_data", "metadata": {}, "data": {**data, **(more or {})}}


def png(text_chunk: bool = False, trailing: bytes = b"") -> bytes:
    """A small red PNG; with a text chunk naming a patient's NIR, and bytes after its end."""
    buffer = io.BytesIO()
    info = PngImagePlugin.PngInfo()
    if text_chunk:
        info.add_text("Comment", "patient 1 84 12 76 451 089 46")
    Image.new("RGB", (20, 10), (200, 10, 10)).save(buffer, "PNG", pnginfo=info)
    return buffer.getvalue() + trailing


# --- a synthetic extract ------------------------------------------------------------------------


def stays() -> pd.DataFrame:
    """300 synthetic hospital stays in four regions; Corse has 3 (2 women, 1 man)."""
    rng = np.random.default_rng(7)
    regions = ["Bretagne"] * 123 + ["Corse"] * 3 + ["IDF"] * 68 + ["Normandie"] * 106
    sex = ["F", "M"] * 150
    sex[123:126] = ["F", "F", "M"]
    return pd.DataFrame(
        {
            "region": regions,
            "sex": sex,
            "age": rng.integers(18, 95, 300),
            "los": rng.integers(2, 300, 300) / 10,
            "cost": rng.integers(500, 20000, 300).astype(float),
            "death": (rng.random(300) < 0.1).astype(int),
            "diag": rng.choice(["I21", "I63", "J18"], 300, p=[0.5, 0.44, 0.06]),
        }
    )


def stays_in_large_groups() -> pd.DataFrame:
    """The same stays in three regions of 100, every group of 40 or more."""
    df = stays()
    df["region"] = np.repeat(["Bretagne", "Corse", "IDF"], 100)
    df["sex"] = ["F", "M"] * 150
    return df
