"""``hist``: matplotlib's histogram, saved with the counts that let the checker read it.

It returns what ``matplotlib.pyplot.hist`` returns, ``(n, bins, patches)``, and writes, into
the outputs folder:

``<name>.png``
    the histogram, drawn on a figure of its own with the Agg backend: no display is needed
    and the caller's pyplot figures are left alone. The image shows the bare histogram;
    the checker cannot read pixels and marks it for review.
``<name>.csv``
    the number of observations in each bin (one row per bin, labelled ``[a, b)``, the
    last ``[a, b]`` as in numpy; one column per dataset), whatever ``density``,
    ``weights`` or ``cumulative`` make the bars show: the threshold applies to these.
``<name>.evidence.json``
    one sidecar, kind ``histogram``, for both files (they share the stem, so the checker
    pairs it with the CSV): the units per bin, the edges and counts, and whether the
    researcher bounded the outer edges.

The outer edges matplotlib picks are the data's minimum and maximum, single individuals'
values; the edges count as bounded when ``range=`` or explicit edges were given and neither
outer edge equals an observed extreme. ``unit=`` (identifiers, one per observation, or a
column of ``data=``) makes the units per bin distinct units rather than observations.
"""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from numpy.typing import NDArray

from agoria_tre.disclosure.policy import Policy
from agoria_tre.safe.outputs import (
    active_policy,
    evidence_document,
    output_name,
    outputs_dir,
    short_numbers,
    table_csv,
    unit_name,
    write_output,
)

__all__ = ["hist"]

FloatArray = NDArray[np.float64]


def _figure() -> Figure:
    figure = Figure()
    FigureCanvasAgg(figure)
    return figure


def _resolve(value: Any, data: Any) -> Any:
    """A name looked up in ``data=``, as matplotlib does; anything else as given."""
    if isinstance(value, str) and data is not None:
        return data[value]
    return value


def _observed(x: Any) -> FloatArray | None:
    """Every finite observation of every dataset, or None if they are not plain numbers."""
    try:
        try:
            values = np.asarray(x, dtype=np.float64).ravel()
        except ValueError:  # datasets of different lengths
            values = np.concatenate([np.asarray(d, dtype=np.float64).ravel() for d in x])
    except (TypeError, ValueError):
        return None
    return values[np.isfinite(values)]


def _bounded(given: bool, edges: FloatArray, observed: FloatArray | None) -> bool:
    """Whether the outer edges are the researcher's rather than the data's extremes."""
    if not given:
        return False
    if observed is None:
        return False  # not numbers (dates...): the edges cannot be compared, a reviewer reads
    if observed.size == 0:
        return True
    return bool(edges[0] != observed.min() and edges[-1] != observed.max())


def _raw_counts(x: Any, edges: FloatArray, data: Any) -> NDArray[np.int64]:
    """Observations per bin and dataset, (bins, datasets), binned as matplotlib bins them."""
    raw, _, _ = _figure().add_subplot().hist(x, bins=edges.tolist(), data=data)
    counts = np.asarray(raw, dtype=np.float64)
    counts = counts.reshape(-1, 1) if counts.ndim == 1 else counts.T
    return np.rint(counts).astype(np.int64)


def _unit_counts(values: Any, unit: Any, edges: FloatArray) -> NDArray[np.int64]:
    """Distinct units per bin (one dataset), bins closed on the left, the last on both sides."""
    numbers = np.asarray(values, dtype=np.float64)
    units = np.asarray(unit)
    if numbers.ndim != 1 or units.shape != numbers.shape:
        raise ValueError("unit= needs one dataset and one identifier per observation")
    inside = np.isfinite(numbers) & (numbers >= edges[0]) & (numbers <= edges[-1])
    bins = np.clip(np.searchsorted(edges, numbers[inside], side="right") - 1, 0, edges.size - 2)
    distinct = pd.Series(units[inside]).groupby(bins).nunique()
    counts = np.zeros((edges.size - 1, 1), dtype=np.int64)
    counts[distinct.index.to_numpy(), 0] = distinct.to_numpy()
    return counts


def _bin_labels(edges: FloatArray) -> list[str]:
    texts = short_numbers(edges)
    last = len(texts) - 2
    return [
        f"[{texts[i]}, {texts[i + 1]}{']' if i == last else ')'}" for i in range(len(texts) - 1)
    ]


def _column_names(datasets: int, label: Any) -> list[str]:
    if datasets == 1:
        return ["count"]
    if isinstance(label, Sequence) and not isinstance(label, str) and len(label) == datasets:
        return [f"count {name}" for name in label]
    return [f"count {i}" for i in range(1, datasets + 1)]


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


def _show(png: bytes) -> None:
    """In a notebook, the image that was checked; elsewhere nothing (the file is written)."""
    try:
        from IPython import get_ipython
    except ImportError:  # outside a notebook: no IPython installed
        return
    if get_ipython() is not None:
        from IPython.display import Image, display

        display(Image(data=png))


def hist(
    x: Any,
    bins: int | Sequence[float] | str | None = None,
    range: tuple[float, float] | None = None,
    *,
    unit: Any = None,
    name: str | None = None,
    outputs: str | os.PathLike[str] | None = None,
    policy: Policy | None = None,
    **kwargs: Any,
) -> tuple[Any, Any, Any]:
    """``matplotlib.pyplot.hist``, writing the image, the counts and their evidence; see
    the module docstring. ``bins=None`` takes ``rcParams["hist.bins"]``, as matplotlib."""
    policy = active_policy(policy)
    data = kwargs.get("data")
    figure = _figure()
    n, drawn_bins, patches = figure.add_subplot().hist(x, bins=bins, range=range, **kwargs)
    edges = np.asarray(drawn_bins, dtype=np.float64)
    counts = _raw_counts(x, edges, data)
    values = _resolve(x, data)
    given = range is not None or (np.iterable(bins) and not isinstance(bins, str))
    units = counts if unit is None else _unit_counts(values, _resolve(unit, data), edges)
    table = pd.DataFrame(
        counts,
        index=pd.Index(_bin_labels(edges), name="bin"),
        columns=_column_names(counts.shape[1], kwargs.get("label")),
    )
    stem = output_name(name, "hist", getattr(values, "name", None))
    evidence = evidence_document(
        output=f"{stem}.csv",
        kind="histogram",
        statistic="count",
        unit=unit_name(unit),
        label_columns=1,
        units=units,
        histogram={
            "edges": edges.tolist(),
            "counts": counts[:, 0].tolist() if counts.shape[1] == 1 else counts.T.tolist(),
            "bounded": _bounded(given, edges, _observed(values)),
        },
    )
    folder = outputs_dir(outputs)
    png = _png(figure)
    write_output(folder, stem, ".png", png, evidence, policy)
    write_output(folder, stem, ".csv", table_csv(table), evidence, policy)
    _show(png)
    return n, drawn_bins, patches
