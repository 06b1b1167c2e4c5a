"""The analysis frame the corpus is computed from: the synthetic demo cohort
(``agoria_tre.ingest.demo``), one row per patient, pseudonymised as a project copy would be.

Columns: ``patient`` (a 26-character base32 pseudonym), ``sex``, ``departement``, ``age``,
``age_band``, ``drug``, ``dose_level`` (0, 1, 2), ``year``, ``quarter``, ``ecog`` (0-3),
``stage`` (I-IV), ``grade_max`` (0-5), ``serious``, ``response``, ``died``, ``time`` (days
of follow-up), ``los`` (days in hospital), ``cost`` (euros), ``crp`` (mg/L), ``start``.
Everything follows from the seed. The demo cohort plants a département of 3 patients and two
grade-5 events; ``cost`` plants one patient who dominates the rare département's total.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from agoria_tre.ingest import demo

SEED = 2026
PATIENTS = 2000
KEY = b"agoria-tre corpus key: synthetic data only"


def pseudonym(ipp: str) -> str:
    """The platform's shape: base32 of a keyed SHA-256, first 26 characters."""
    digest = hmac.new(KEY, ipp.encode(), hashlib.sha256).digest()
    return base64.b32encode(digest)[:26].decode()


def cohort(patients: int = PATIENTS, seed: int = SEED) -> pd.DataFrame:
    with tempfile.TemporaryDirectory() as folder:
        files = demo.generate(Path(folder) / "extracts", patients=patients, seed=seed)
        people = pd.read_csv(files.patients, dtype=str)
        treatments = pd.read_csv(files.treatments, dtype={"ipp": str})
        events = pd.read_csv(files.adverse_events, sep=";", encoding="latin-1", dtype={"ipp": str})
        outcomes = pd.read_csv(files.outcomes, dtype={"ipp": str})
    first = treatments.sort_values(["ipp", "debut"]).groupby("ipp").first()
    frame = people.set_index("ipp")[["sexe", "departement", "date_naissance"]].join(first)
    frame = frame.join(outcomes.set_index("ipp"))
    frame["grade_max"] = events.groupby("ipp")["grade"].max().reindex(frame.index).fillna(0)
    rng = np.random.default_rng(seed + 1)
    n = len(frame)
    start = pd.to_datetime(frame["debut"])
    born = pd.to_datetime(frame["date_naissance"])
    last = pd.to_datetime(frame["date_derniere_nouvelle"])
    out = pd.DataFrame(index=pd.RangeIndex(n))
    out["patient"] = [pseudonym(ipp) for ipp in frame.index]
    out["sex"] = frame["sexe"].to_numpy()
    out["departement"] = frame["departement"].to_numpy()
    out["age"] = ((start - born).dt.days // 365).to_numpy()
    out["age_band"] = pd.cut(
        out["age"],
        [0, 40, 50, 60, 70, 80, 120],
        right=False,
        labels=["<40", "40-49", "50-59", "60-69", "70-79", "80+"],
    ).astype(str)
    out["drug"] = frame["medicament"].to_numpy()
    nominal = frame["medicament"].map(dict(demo.DRUGS))
    ratio = (frame["dose_mg"] / nominal).to_numpy()
    out["dose_level"] = np.select([ratio < 0.9, ratio < 1.1], [0, 1], 2)
    out["start"] = start.dt.date.astype(str).to_numpy()
    out["year"] = start.dt.year.to_numpy()
    out["quarter"] = start.dt.to_period("Q").astype(str).to_numpy()
    out["ecog"] = rng.choice(4, size=n, p=[0.35, 0.35, 0.2, 0.1])
    out["stage"] = rng.choice(["I", "II", "III", "IV"], size=n, p=[0.15, 0.3, 0.3, 0.25])
    out["grade_max"] = frame["grade_max"].astype(int).to_numpy()
    out["serious"] = out["grade_max"] >= 3
    out["response"] = frame["meilleure_reponse"].to_numpy()
    out["died"] = (frame["deces"] == "oui").to_numpy()
    out["time"] = (last - start).dt.days.clip(lower=1).to_numpy()
    out["los"] = rng.poisson(6, size=n) + 1
    out["cost"] = np.round(rng.gamma(2.0, 2500.0, size=n)).astype(int)
    rare = np.flatnonzero(out["departement"].to_numpy() == demo.RARE_DEPARTEMENT)
    out.loc[rare[0], "cost"] = 412_000  # one patient dominates the rare département's total
    out["crp"] = np.round(rng.lognormal(2.0, 0.8, size=n), 1)
    return out
