"""Researcher-side helpers: pandas and statsmodels calls that also write their evidence.

Change an import, not a habit::

    from agoria_tre import safe
    table = safe.crosstab(df.sex, df.drug)                     # a pandas DataFrame
    table = safe.crosstab(df.sex, df.drug, unit=df.patient)    # counts distinct patients
    table = safe.pivot_table(df, values="dose", index="sex", columns="drug",
                             aggfunc="sum", unit="patient", suppress=True)

Each call writes ``outputs/<name>.csv`` and ``outputs/<name>.evidence.json`` (the folder is
``$AGORIA_OUTPUTS`` or ``./outputs``) and shows the checker's verdict under the cell. The
evidence is for the checker and the reviewers; it is never released.
"""

from __future__ import annotations

from agoria_tre.safe.tables import crosstab, pivot_table

__all__ = ["crosstab", "pivot_table"]
