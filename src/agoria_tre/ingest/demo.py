"""A synthetic early-access programme (accès précoce) cohort, written as raw hospital
extracts *with* direct identifiers, so that ingest is exercised exactly as with real data.

Everything is invented from a seed: names are drawn from short lists of common French
names, NIRs have a valid form and key but are built from random parts, addresses are made
up. Four extracts share the hospital's patient number (``ipp``):

- ``patients.csv``: identity, NIR, address, phone, birth date, sex, département;
- ``treatments.csv``: treatment episodes (drug, dose, start and stop dates);
- ``adverse_events.csv``: Latin-1 and ``;``-separated, as some hospital systems export,
  with MedDRA-like terms and CTCAE grades;
- ``outcomes.csv``: best response, death, follow-up dates.

Beside each extract, its ingest profile (``patients.toml``...) declares every column's role,
as a data manager keeps one per source: ``agoria-tre dataset ingest patients.csv --name
patients --profile patients.toml``.

Rare subgroups are planted for the disclosure checks to catch: one département holds
exactly 3 patients, and a grade-5 event is seen exactly twice.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np

FIRST_NAMES = {
    "F": ["Marie", "Camille", "Léa", "Chloé", "Manon", "Inès", "Sarah", "Émilie", "Julie",
          "Céline", "Nathalie", "Hélène", "Françoise", "Anaïs", "Zoé", "Margaux"],
    "M": ["Jean", "Pierre", "Louis", "Hugo", "Lucas", "Thomas", "Nicolas", "Julien",
          "François", "Étienne", "Mathieu", "Antoine", "Gaël", "Loïc", "Rémi", "Noé"],
}  # fmt: skip
SURNAMES = [
    "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand",
    "Leroy", "Moreau", "Simon", "Laurent", "Lefèvre", "Michel", "Garcia", "David",
    "Bertrand", "Roux", "Vincent", "Fournier", "Morel", "Girard", "André", "Mercier",
]  # fmt: skip
STREETS = ["rue de la République", "avenue Jean Jaurès", "rue Victor Hugo",
           "boulevard Pasteur", "rue des Écoles", "place de la Mairie", "chemin des Vignes",
           "rue du Moulin"]  # fmt: skip
# Départements with their weight in the cohort; "48" (Lozère) is the planted rare one.
DEPARTEMENTS = ["75", "69", "13", "33", "31", "59", "44", "67", "06", "2A", "35", "34"]
RARE_DEPARTEMENT = "48"
DRUGS = [("Tumorelib", 200.0), ("Cardiovex", 50.0), ("Neuraprim", 10.0), ("Immunotab", 400.0)]
ADVERSE_TERMS = [
    ("Nausée", 1), ("Fatigue", 1), ("Céphalée", 1), ("Diarrhée", 2), ("Éruption cutanée", 2),
    ("Neutropénie", 3), ("Hypertension", 2), ("Pneumopathie", 3), ("Hépatite", 3),
    ("Thrombopénie", 3), ("Insuffisance rénale aiguë", 4), ("Sepsis", 4),
]  # fmt: skip
PROFILES: dict[str, str] = {
    "patients": """\
# What each column of the patients extract is (agoria-tre dataset ingest --profile).
[columns]
ipp = "id"
nom = "drop"
prenom = "drop"
nir = "drop"
adresse = "drop"
telephone = "drop"
date_naissance = "date_of_birth"
sexe = "quasi"
departement = "quasi"
""",
    "treatments": """\
[columns]
ipp = "id"
medicament = "attribute"
dose_mg = "attribute"
debut = "attribute"
fin = "attribute"
""",
    "adverse_events": """\
[columns]
ipp = "id"
terme = "attribute"
grade = "attribute"
date_survenue = "attribute"
grave = "attribute"
""",
    "outcomes": """\
[columns]
ipp = "id"
meilleure_reponse = "attribute"
deces = "attribute"
date_deces = "quasi"
date_derniere_nouvelle = "attribute"
""",
}
"""Each extract's ingest profile, written beside it."""
FILES = tuple(f"{name}.{suffix}" for name in PROFILES for suffix in ("csv", "toml"))
FATAL_TERM = "Myocardite"  # the grade-5 event seen exactly twice
RESPONSES = ["réponse complète", "réponse partielle", "maladie stable", "progression"]
START = date(2024, 1, 8)
EXTRACTED = date(2026, 10, 31)  # the extracts' date: nothing happens after it


@dataclass(frozen=True)
class DemoFiles:
    folder: Path
    patients: Path
    treatments: Path
    adverse_events: Path
    outcomes: Path
    counts: dict[str, int]

    def profile(self, name: str) -> Path:
        """The ingest profile of extract ``name`` (``patients``...)."""
        return self.folder / f"{name}.toml"


def nir_key(body: str) -> int:
    """The NIR's control key: 97 - (number mod 97), Corsica's 2A/2B read as 19/18."""
    number = int(body.replace("2A", "19").replace("2B", "18"))
    return 97 - number % 97


def _nir(sex: str, born: date, departement: str, rng: np.random.Generator) -> str:
    commune = int(rng.integers(1, 990))
    order = int(rng.integers(1, 999))
    body = (
        f"{1 if sex == 'M' else 2}{born.year % 100:02d}{born.month:02d}"
        f"{departement}{commune:03d}{order:03d}"
    )
    return f"{body}{nir_key(body):02d}"


def _write(
    path: Path, header: list[str], rows: Sequence[Sequence[object]], *, latin1: bool = False
) -> None:
    """Owner-only, never over an existing file: these are identified extracts."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";" if latin1 else ",", lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(buffer.getvalue().encode("latin-1" if latin1 else "utf-8"))


def generate(folder: Path, *, patients: int = 2000, seed: int = 2026) -> DemoFiles:
    """Write the four extracts into ``folder``; the same seed gives the same bytes."""
    if patients < 20:
        raise ValueError("the demo cohort needs at least 20 patients")
    rng = np.random.default_rng(seed)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    taken = [n for n in FILES if (folder / n).exists()]
    if taken:
        raise FileExistsError(f"{folder / taken[0]} exists: the extracts are never overwritten")
    patient_rows, treatment_rows, event_rows, outcome_rows = [], [], [], []
    weights = np.linspace(3.0, 1.0, len(DEPARTEMENTS))
    weights /= weights.sum()
    rare = set(rng.choice(patients, size=3, replace=False).tolist())
    fatal = sorted(rng.choice(sorted(set(range(patients)) - rare), size=2, replace=False))
    for i in range(patients):
        ipp = f"{80_000_000 + i * 7 + int(rng.integers(0, 7)):09d}"
        sex = "F" if rng.random() < 0.52 else "M"
        born = date(1935, 1, 1) + timedelta(days=int(rng.integers(0, 365 * 70)))
        departement = RARE_DEPARTEMENT if i in rare else str(rng.choice(DEPARTEMENTS, p=weights))
        first = str(rng.choice(FIRST_NAMES[sex]))
        last = str(rng.choice(SURNAMES))
        postcode = f"{departement.replace('2A', '20')}{int(rng.integers(0, 1000)):03d}"
        address = f"{int(rng.integers(1, 120))} {rng.choice(STREETS)}, {postcode}"
        phone = (
            "0"
            + str(rng.choice(["6", "7"]))
            + "".join(f" {int(rng.integers(0, 100)):02d}" for _ in range(4))
        )
        patient_rows.append(
            [ipp, last.upper(), first, _nir(sex, born, departement, rng), born.isoformat(), sex,
             departement, address, phone]
        )  # fmt: skip
        drug, dose = DRUGS[int(rng.integers(0, len(DRUGS)))]
        begin = START + timedelta(days=int(rng.integers(0, 500)))
        episodes = int(rng.integers(1, 4))
        stop = begin
        for _ in range(episodes):
            length = timedelta(days=int(rng.integers(14, 180)))
            given = round(dose * float(rng.choice([0.5, 0.75, 1.0, 1.0, 1.25])), 1)
            pause = timedelta(days=int(rng.integers(7, 60)))
            if begin >= EXTRACTED:
                continue  # draws kept, so that a seed gives the same cohort
            stop = min(EXTRACTED, begin + length)
            treatment_rows.append([ipp, drug, f"{given:.1f}", begin.isoformat(), stop.isoformat()])
            begin = stop + pause
        for _ in range(int(rng.poisson(1.2))):
            term, grade_base = ADVERSE_TERMS[int(rng.integers(0, len(ADVERSE_TERMS)))]
            grade = min(4, grade_base + int(rng.integers(0, 2)))
            onset = START + timedelta(days=int(rng.integers(0, 700)))
            event_rows.append([ipp, term, grade, onset.isoformat(), "oui" if grade >= 3 else "non"])
        died = i in fatal or rng.random() < 0.08
        if i in fatal:
            onset = stop - timedelta(days=3)
            event_rows.append([ipp, FATAL_TERM, 5, onset.isoformat(), "oui"])
        last_seen = min(EXTRACTED, stop + timedelta(days=int(rng.integers(30, 400))))
        outcome_rows.append(
            [ipp, str(rng.choice(RESPONSES)), "oui" if died else "non",
             last_seen.isoformat() if died else "", last_seen.isoformat()]
        )  # fmt: skip
    files = DemoFiles(
        folder=folder,
        patients=folder / "patients.csv",
        treatments=folder / "treatments.csv",
        adverse_events=folder / "adverse_events.csv",
        outcomes=folder / "outcomes.csv",
        counts={
            "patients": len(patient_rows),
            "treatments": len(treatment_rows),
            "adverse_events": len(event_rows),
            "outcomes": len(outcome_rows),
        },
    )
    _write(
        files.patients,
        ["ipp", "nom", "prenom", "nir", "date_naissance", "sexe", "departement", "adresse",
         "telephone"],
        patient_rows,
    )  # fmt: skip
    _write(files.treatments, ["ipp", "medicament", "dose_mg", "debut", "fin"], treatment_rows)
    _write(
        files.adverse_events,
        ["ipp", "terme", "grade", "date_survenue", "grave"],
        event_rows,
        latin1=True,
    )
    _write(
        files.outcomes,
        ["ipp", "meilleure_reponse", "deces", "date_deces", "date_derniere_nouvelle"],
        outcome_rows,
    )
    for name, text in PROFILES.items():
        fd = os.open(files.profile(name), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
    return files
