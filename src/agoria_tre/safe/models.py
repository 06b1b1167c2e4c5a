"""``ols``, ``logit`` and ``probit``: statsmodels' formula models, whose ``fit()`` also
writes the summary and its evidence.

Each function returns the model statsmodels' ``formula.api`` returns (the same class, so
``isinstance`` checks and every method keep working). Only that instance's ``fit`` is
replaced: it returns statsmodels' results unchanged and writes, into the outputs folder,
``<name>.txt`` (``str(results.summary())``) and ``<name>.evidence.json`` (kind ``model``:
family, observations, residual and model degrees of freedom, formula), then shows the
checker's verdict, which rests on the residual degrees of freedom printed in the summary.

The summary keeps statsmodels' "Date:" and "Time:" lines, so a healthy model is at best
``review``: the checker flags the print date for a reviewer to read, as it flags every full
date. Re-running a fit overwrites the output of the same name.

``unit=``
    the column of unit identifiers. When the rows used by the model belong to fewer
    distinct units than there are observations (repeated measures), the evidence records
    ``"units": <distinct units>`` for the reviewers; no rule uses it yet.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import statsmodels.formula.api as smf

from agoria_tre.disclosure.policy import Policy
from agoria_tre.safe.outputs import (
    active_policy,
    evidence_document,
    output_name,
    outputs_dir,
    write_output,
)

__all__ = ["logit", "ols", "probit"]

_TERM = re.compile(r"[A-Za-z0-9_.]+")
# statsmodels resolves names in a formula (``np.log``, a user's function) in the frame
# ``eval_env`` levels above ``from_formula``; our two frames sit between it and the caller.
_OUR_FRAMES = 2


class RecordingFit:
    """Replaces one model instance's ``fit``: statsmodels' fit, then the output written.

    A plain object rather than a closure, so that models and results still pickle
    (``results.save()``).
    """

    def __init__(
        self,
        model: Any,
        *,
        formula: str,
        unit: str | None,
        units: int | None,
        stem: str,
        folder: Path,
        policy: Policy,
    ) -> None:
        self.model = model
        self.formula = formula
        self.unit = unit
        self.units = units
        self.stem = stem
        self.folder = folder
        self.policy = policy

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        results = type(self.model).fit(self.model, *args, **kwargs)
        self.record(results)
        return results

    def record(self, results: Any) -> None:
        """Write the summary and its evidence; show the checker's verdict."""
        family = type(self.model).__name__
        model: dict[str, Any] = {
            "family": family,
            "nobs": round(float(results.nobs)),
            "df_resid": round(float(results.df_resid)),
            "df_model": round(float(results.df_model)),
            "formula": self.formula,
        }
        if self.units is not None:
            model["units"] = self.units
        evidence = evidence_document(
            output=f"{self.stem}.txt",
            kind="model",
            statistic="model",
            unit=self.unit,
            label_columns=0,
            model=model,
        )
        text = str(results.summary())
        write_output(self.folder, self.stem, ".txt", text.encode("utf-8"), evidence, self.policy)


def default_name(family: str, formula: object) -> str:
    """``ols_y_on_x1_x2`` for ``ols("y ~ x1 + x2")``: the family, then the formula's names."""
    left, _, right = str(formula).partition("~")
    return output_name(None, family, *_TERM.findall(left), "on", *_TERM.findall(right))


def _distinct_units(model: Any, data: Any, unit: str) -> int | None:
    """Distinct units among the rows the model used, if fewer than its observations."""
    if not isinstance(data, pd.DataFrame):
        raise TypeError("unit= needs data to be a pandas DataFrame")
    if unit not in data.columns:
        raise ValueError(f"unit={unit!r} is not a column of the data")
    if not data.index.is_unique:
        raise ValueError("unit= needs a data frame whose index labels are unique")
    rows = model.data.row_labels
    used = data[unit] if rows is None else data[unit].loc[rows]
    distinct = int(used.nunique(dropna=True))
    return distinct if distinct < len(used) else None


def _eval_env(kwargs: dict[str, Any]) -> dict[str, Any]:
    """Make formula names resolve in the caller's frame, as with statsmodels' own call."""
    depth = kwargs.get("eval_env")
    if depth is None:
        return {**kwargs, "eval_env": 1 + _OUR_FRAMES}
    if isinstance(depth, int) and not isinstance(depth, bool) and depth >= 0:
        return {**kwargs, "eval_env": depth + _OUR_FRAMES}
    return kwargs  # -1 (an empty environment) or an environment object


def _formula_model(
    family: str,
    formula: Any,
    data: Any,
    subset: Any,
    drop_cols: Any,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    *,
    unit: str | None,
    name: str | None,
    outputs: str | os.PathLike[str] | None,
    policy: Policy | None,
) -> Any:
    build = getattr(smf, family)
    model = build(formula, data, subset, drop_cols, *args, **_eval_env(kwargs))
    model.fit = RecordingFit(
        model,
        formula=str(formula),
        unit=unit,
        units=None if unit is None else _distinct_units(model, data, unit),
        stem=output_name(name) if name else default_name(family, formula),
        folder=outputs_dir(outputs),
        policy=active_policy(policy),
    )
    return model


def _formula_api(kind: str) -> Callable[..., Any]:
    """One wrapper per statsmodels formula function: the same signature, plus ``unit=``,
    ``name=``, ``outputs=`` and ``policy=``."""

    def model(
        formula: Any,
        data: Any,
        subset: Any = None,
        drop_cols: Any = None,
        *args: Any,
        unit: str | None = None,
        name: str | None = None,
        outputs: str | os.PathLike[str] | None = None,
        policy: Policy | None = None,
        **kwargs: Any,
    ) -> Any:
        return _formula_model(
            kind,
            formula,
            data,
            subset,
            drop_cols,
            args,
            kwargs,
            unit=unit,
            name=name,
            outputs=outputs,
            policy=policy,
        )

    model.__name__ = model.__qualname__ = kind
    model.__doc__ = (
        f"``statsmodels.formula.api.{kind}``; ``fit()`` writes the summary (module docstring)."
    )
    return model


ols = _formula_api("ols")
logit = _formula_api("logit")
probit = _formula_api("probit")
