"""Writing an output with its evidence, and showing the checker's verdict in the notebook.

The verdict comes from the same code the airlock runs (``agoria_tre.disclosure.checker``)
on the very bytes written to the outputs folder, so what the researcher sees is what the
server will find.
"""

from __future__ import annotations

import html
import json
import os
import re
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from agoria_tre.disclosure.checker import Checked, Context, check_bytes
from agoria_tre.disclosure.evidence import EVIDENCE_SCHEMA, SUFFIX
from agoria_tre.disclosure.policy import Policy, load_profile
from agoria_tre.disclosure.report import ItemReport
from agoria_tre.disclosure.status import Status

OUTPUTS_ENV = "AGORIA_OUTPUTS"
PROFILE_ENV = "AGORIA_DISCLOSURE_PROFILE"
_SAFE_NAME = re.compile(r"[^A-Za-z0-9_.-]+")


def outputs_dir(outputs: str | os.PathLike[str] | None) -> Path:
    """The folder outputs go to: the argument, else ``$AGORIA_OUTPUTS``, else ./outputs."""
    path = Path(outputs or os.environ.get(OUTPUTS_ENV) or "outputs")
    path.mkdir(parents=True, exist_ok=True)
    return path


def active_policy(policy: Policy | None) -> Policy:
    return policy or load_profile(os.environ.get(PROFILE_ENV) or "fr")


def output_name(explicit: str | None, *parts: object) -> str:
    """A file stem: the caller's, or one made from the analysis (re-running overwrites)."""
    raw = explicit or "_".join(str(p) for p in parts if p not in (None, ""))
    name = _SAFE_NAME.sub("_", raw).strip("._") or "output"
    return name[:120]


def short_numbers(values: Any) -> list[str]:
    """Numbers as labels with the fewest significant digits (at least 6) that keep them
    distinct. A float printed in full (``462.979547540014``) is noise to a reader, and can
    even look like an identifier to the checker."""
    numbers = [float(v) for v in values]
    for digits in range(6, 18):
        texts = [f"{value:.{digits}g}" for value in numbers]
        if len(set(texts)) == len(texts):
            return texts
    return [repr(value) for value in numbers]


def unit_name(unit: Any) -> str | None:
    """What the evidence calls the unit: a column name, a Series' name, or "unit"."""
    if unit is None:
        return None
    if isinstance(unit, str):
        return unit  # a column of data=
    return str(getattr(unit, "name", None) or "unit")


def _label(value: object) -> str:
    if isinstance(value, tuple):
        return " / ".join(str(v) for v in value)
    return "" if value is None else str(value)


def table_csv(table: pd.DataFrame, hidden: np.ndarray[Any, Any] | None = None) -> bytes:
    """The table as the checker's canonical CSV: one header row, labels first, UTF-8.

    ``hidden`` cells (suppressed) are written ``*``, so that they are never mistaken for
    empty cells, which show a zero.
    """
    flat = table.copy()
    if hidden is not None and hidden.any():
        flat = flat.astype(object)
        flat[pd.DataFrame(hidden, index=flat.index, columns=flat.columns)] = "*"
    flat.columns = [_label(c) for c in flat.columns]
    names = [_label(n) for n in flat.index.names]
    flat.index = flat.index.set_names(names)
    text = flat.to_csv(na_rep="", lineterminator="\n")
    return text.encode("utf-8")


def _matrix(array: np.ndarray[Any, Any] | None) -> list[Any] | None:
    return None if array is None else array.tolist()


def evidence_document(
    *,
    output: str,
    kind: str,
    statistic: str,
    unit: str | None,
    label_columns: int,
    units: np.ndarray[Any, Any] | None = None,
    totals: np.ndarray[Any, Any] | None = None,
    top: np.ndarray[Any, Any] | None = None,
    negative: np.ndarray[Any, Any] | None = None,
    missing: np.ndarray[Any, Any] | None = None,
    model: dict[str, Any] | None = None,
    histogram: dict[str, Any] | None = None,
    n_values: np.ndarray[Any, Any] | None = None,
) -> dict[str, Any]:
    document: dict[str, Any] = {
        "schema": EVIDENCE_SCHEMA,
        "output": output,
        "kind": kind,
        "statistic": statistic,
        "unit": unit,
        "label_columns": label_columns,
        "units": _matrix(units),
        "totals": _matrix(totals),
        "top": _matrix(top),
        "negative": _matrix(negative),
        "missing": _matrix(missing),
        "model": model,
        "histogram": histogram,
        "n_values": _matrix(n_values),
    }
    return {k: v for k, v in document.items() if v is not None}


def write_output(
    folder: Path,
    stem: str,
    suffix: str,
    content: bytes,
    evidence: dict[str, Any] | None,
    policy: Policy,
    *,
    table: pd.DataFrame | None = None,
) -> Checked:
    """Write ``stem.suffix`` and its sidecar, check them as the server will, show the verdict
    (with ``table``'s flagged cells highlighted)."""
    path = folder / f"{stem}{suffix}"
    sidecar = json.dumps(evidence, allow_nan=False).encode() if evidence is not None else None
    _atomic_write(path, content)
    if sidecar is not None:
        _atomic_write(folder / f"{stem}{SUFFIX}", sidecar)
    checked = check_bytes(path.name, content, Context(policy), evidence=sidecar)
    show_verdict(checked.report, table)
    return checked


def _atomic_write(path: Path, content: bytes) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_bytes(content)
    temporary.replace(path)


_COLOURS = {Status.PASS: "#1b7f3b", Status.REVIEW: "#9a6700", Status.FAIL: "#b42318"}


def verdict_text(report: ItemReport) -> str:
    lines = [f"[agoria-tre check] {report.path}: {report.status.value.upper()}"]
    for rule in report.rules:
        if rule.status is not Status.PASS:
            cells = f" cells {list(rule.cells)[:8]}" if rule.cells else ""
            lines.append(f"  {rule.status.value}: {rule.rule}: {rule.summary}{cells}")
    return "\n".join(lines)


def verdict_html(report: ItemReport) -> str:
    colour = _COLOURS[report.status]
    items = "".join(
        f"<li><b style='color:{_COLOURS[r.status]}'>{r.status.value}</b> "
        f"<code>{html.escape(r.rule)}</code>: {html.escape(r.summary)}"
        + (f" <small>cells {html.escape(str(list(r.cells)[:8]))}</small>" if r.cells else "")
        + "</li>"
        for r in report.rules
        if r.status is not Status.PASS
    )
    return (
        f"<div style='border-left:4px solid {colour};padding:2px 8px'>"
        f"<b>agoria-tre check</b> {html.escape(report.path)}: "
        f"<b style='color:{colour}'>{report.status.value.upper()}</b>"
        f"{'<ul>' + items + '</ul>' if items else ''}</div>"
    )


def show_verdict(report: ItemReport, table: pd.DataFrame | None = None) -> None:
    """In a notebook, an HTML note (and the table, flagged cells highlighted) under the
    output; elsewhere, lines on stderr."""
    shell = None
    try:
        from IPython import get_ipython

        shell = get_ipython()
    except ImportError:  # outside a notebook: no IPython installed
        pass
    if shell is not None:
        from IPython.display import HTML, display

        extra = table_html(table, report) if table is not None else ""
        display(HTML(verdict_html(report) + extra))
    else:
        print(verdict_text(report), file=sys.stderr)


def table_html(table: pd.DataFrame, report: ItemReport) -> str:
    """The table as HTML with each flagged cell coloured by its worst status.

    Written here rather than with pandas' Styler, which needs jinja2 in the workspace.
    """
    worst: dict[tuple[int, int], Status] = {}
    for rule in report.rules:
        if rule.status is Status.PASS:
            continue
        for cell in rule.cells:
            if rule.status.rank > worst.get(cell, Status.PASS).rank:
                worst[cell] = rule.status
    head = "".join(f"<th>{html.escape(_label(c))}</th>" for c in table.columns)
    names = " / ".join(_label(n) for n in table.index.names)
    rows = []
    for i, (label, values) in enumerate(zip(table.index, table.to_numpy(), strict=True)):
        cells = []
        for j, value in enumerate(values):
            status = worst.get((i, j))
            style = f" style='background:{_COLOURS[status]}33'" if status else ""
            title = f" title='{status.value}'" if status else ""
            text = "" if pd.isna(value) else html.escape(str(value))
            cells.append(f"<td{style}{title}>{text}</td>")
        rows.append(f"<tr><th>{html.escape(_label(label))}</th>{''.join(cells)}</tr>")
    return (
        f"<table><thead><tr><th>{html.escape(names)}</th>{head}</tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )
