"""Researcher-side helpers: pandas, statsmodels and matplotlib calls that also write their
evidence.

Change an import, not a habit::

    from agoria_tre import safe
    table = safe.crosstab(df.sex, df.drug)                     # a pandas DataFrame
    table = safe.crosstab(df.sex, df.drug, unit=df.patient)    # counts distinct patients
    table = safe.pivot_table(df, values="dose", index="sex", columns="drug",
                             aggfunc="sum", unit="patient", suppress=True)
    results = safe.ols("y ~ age + sex", data=df).fit()         # statsmodels' own objects
    km = safe.surv_func(df.time, df.died, interval=30)
    counts, edges, patches = safe.hist(df.age, bins=10, range=(0, 100))

Each call writes ``outputs/<name>.<csv|txt|png>`` and ``outputs/<name>.evidence.json`` (the
folder is ``$AGORIA_OUTPUTS`` or ``./outputs``) and shows the checker's verdict under the
cell. The evidence is for the checker and the reviewers; it is never released.
"""

from __future__ import annotations

from agoria_tre.safe.models import logit, ols, probit
from agoria_tre.safe.plots import hist
from agoria_tre.safe.survival import surv_func
from agoria_tre.safe.tables import crosstab, pivot_table

__all__ = ["crosstab", "hist", "logit", "ols", "pivot_table", "probit", "surv_func"]
