"""The labelled corpus of outputs the checker is measured on (``bench/disclosure_corpus.py``)
and held to (``tests/integration/test_disclosure_corpus.py``).

Run ``python -m tests.corpus.generate [FOLDER]`` (default ``tests/data/corpus``) to write it.
Everything follows from the synthetic cohort's seed: the same libraries give the same bytes.

Layout: ``sound/`` and ``disclosive/``, one file or folder per output, and ``corpus.json``
listing each with its label, its kind (``table``, ``model``, ``survival``: the structured
ones; ``image``, ``prose``, ``notebook``), its format, and for a disclosive output the leak
it holds (the rule family that should catch it) in a line.
"""

from __future__ import annotations

import contextlib
import datetime
import importlib.metadata
import io
import json
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from unittest import mock

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import statsmodels.formula.api as smf
from lifelines import CoxPHFitter, KaplanMeierFitter
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import classification_report, confusion_matrix, roc_auc_score
from sklearn.model_selection import train_test_split
from statsmodels.duration.survfunc import SurvfuncRight

from agoria_tre import safe
from tests.corpus import tables
from tests.corpus.cohort import cohort

DEFAULT = Path(__file__).resolve().parents[1] / "data" / "corpus"
PRINTED_AT = time.struct_time((2026, 11, 30, 10, 15, 2, 0, 334, 0))  # statsmodels' print date
FITTED_AT = "2026-11-30 10:15:02 UTC"  # lifelines'
STRUCTURED = frozenset({"table", "model", "survival"})


@dataclass(frozen=True)
class Output:
    path: str  # relative to the corpus folder: a file, or a folder of files
    label: str  # "sound" or "disclosive"
    kind: str
    format: str
    leak: str | None
    why: str


class Corpus:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.outputs: list[Output] = []

    def add(
        self,
        label: str,
        name: str,
        kind: str,
        fmt: str,
        content: bytes | dict[str, bytes],
        *,
        leak: str | None = None,
        why: str = "",
    ) -> None:
        if (label == "sound") != (leak is None):
            raise ValueError(f"{name}: a disclosive output names its leak, a sound one none")
        path = f"{label}/{name}"
        target = self.folder / path
        if isinstance(content, dict):
            target.mkdir(parents=True)
            for file, data in content.items():
                (target / file).write_bytes(data)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
        self.outputs.append(Output(path, label, kind, fmt, leak, why))

    def manifest(self) -> bytes:
        rows = [asdict(o) for o in sorted(self.outputs, key=lambda o: o.path)]
        document = {"written_with": libraries(), "outputs": rows}
        return (json.dumps(document, indent=1, ensure_ascii=False) + "\n").encode()


LIBRARIES = (
    "pandas",
    "numpy",
    "statsmodels",
    "lifelines",
    "scikit-learn",
    "matplotlib",
    "tabulate",
)


def libraries() -> dict[str, str]:
    """The versions that wrote the corpus: other versions may print other bytes."""
    return {name: importlib.metadata.version(name) for name in LIBRARIES}


@contextlib.contextmanager
def fixed_clock() -> Iterator[None]:
    """Model summaries print the time they were made: the corpus prints a fixed one."""
    with (
        mock.patch("time.localtime", return_value=PRINTED_AT),
        mock.patch("statsmodels.iolib.summary2.datetime") as summary2,
    ):
        summary2.datetime.now.return_value = datetime.datetime(*PRINTED_AT[:6])
        yield


def _png(figure: Any) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=60, metadata={"Software": None})
    plt.close(figure)
    return buffer.getvalue()


def _table_outputs(corpus: Corpus, df: pd.DataFrame) -> None:
    for analysis in tables.SOUND:
        for suffix, data in tables.renderings(analysis, df).items():
            corpus.add("sound", f"{analysis.name}.{suffix}", "table", suffix, data)
    for analysis in tables.DISCLOSIVE:
        assert analysis.leak is not None
        for suffix, data in tables.renderings(analysis, df).items():
            corpus.add(
                "disclosive",
                f"{analysis.name}.{suffix}",
                "table",
                suffix,
                data,
                leak=analysis.leak,
                why=analysis.why,
            )
    for suffix, files in tables.cross_tables(df).items():
        corpus.add(
            "disclosive",
            f"cross_table_{suffix}",
            "table",
            suffix,
            files,
            leak="suppression",
            why="a hidden cell recoverable from the other table",
        )


def _models(corpus: Corpus, df: pd.DataFrame) -> None:
    with fixed_clock():
        ols = smf.ols("crp ~ age + C(sex) + C(drug) + ecog", data=df).fit()
        logit = smf.logit(
            "died ~ age + C(sex) + ecog", data=df.assign(died=df.died.astype(int))
        ).fit(disp=0)
        small = df[df.departement == "48"].assign(died=df.died.astype(int))
        tiny = smf.ols(
            "crp ~ age + cost", data=pd.concat([small, df[df.departement == "2A"].head(7)])
        ).fit()
        sound = {
            "ols_summary": (
                "ols = smf.ols('crp ~ age + C(sex) + C(drug) + ecog', data=df).fit()\n"
                "print(ols.summary())",
                str(ols.summary()),
            ),
            "logit_summary": (
                "logit = smf.logit('died ~ age + C(sex) + ecog', data=df).fit()\n"
                "print(logit.summary())",
                str(logit.summary()),
            ),
            "ols_summary2": ("print(ols.summary2())", str(ols.summary2())),
            "ols_params": ("print(ols.params.round(3))", f"{ols.params.round(3)}\n"),
        }
        for name, (code, text) in sound.items():
            corpus.add("sound", f"{name}.txt", "model", "txt", text.encode())
            corpus.add("sound", f"{name}.ipynb", "model", "ipynb", _printed_notebook(code, text))
        conf = ols.conf_int().round(3).rename(columns={0: "ci_low", 1: "ci_high"})
        conf.insert(0, "coef", ols.params.round(3))
        corpus.add("sound", "ols_coefficients.csv", "model", "csv", conf.to_csv().encode())
        text = str(tiny.summary())
        corpus.add(
            "disclosive",
            "ols_ten_patients.txt",
            "model",
            "txt",
            text.encode(),
            leak="dof",
            why="a regression on 10 patients: 7 residual degrees of freedom",
        )
        corpus.add(
            "disclosive",
            "ols_ten_patients.ipynb",
            "model",
            "ipynb",
            _printed_notebook("print(smf.ols('crp ~ age + cost', data=few).fit().summary())", text),
            leak="dof",
            why="a regression on 10 patients",
        )
    cph = CoxPHFitter().fit(
        df[["time", "died", "age", "ecog"]].assign(died=df.died.astype(int)), "time", "died"
    )
    cph._time_fit_was_called = FITTED_AT
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        cph.print_summary(decimals=3, style="ascii")
    corpus.add("sound", "cox_summary.txt", "model", "txt", printed.getvalue().encode())
    corpus.add("sound", "cox_summary.csv", "model", "csv", cph.summary.round(4).to_csv().encode())
    corpus.add(
        "sound",
        "cox_summary.ipynb",
        "model",
        "ipynb",
        _printed_notebook("cph.print_summary(style='ascii')", printed.getvalue()),
    )
    x = df[["age", "ecog", "crp"]].to_numpy()
    y = df.died.to_numpy()
    train_x, test_x, train_y, test_y = train_test_split(x, y, test_size=0.3, random_state=1)
    model = LogisticRegression(max_iter=500, class_weight="balanced").fit(train_x, train_y)
    predicted = model.predict(test_x)
    report = classification_report(test_y, predicted, digits=3)
    corpus.add("sound", "classification_report.txt", "model", "txt", report.encode())
    matrix = pd.DataFrame(
        confusion_matrix(test_y, predicted),
        index=["alive", "died"],
        columns=["predicted alive", "predicted died"],
    )
    corpus.add("sound", "confusion_matrix.csv", "table", "csv", matrix.to_csv().encode())
    metrics = {
        "roc_auc": round(float(roc_auc_score(test_y, model.predict_proba(test_x)[:, 1])), 4),
        "n_test": len(test_y),
        "coefficients": dict(
            zip(["age", "ecog", "crp"], np.round(model.coef_[0], 4).tolist(), strict=True)
        ),
    }
    corpus.add(
        "sound",
        "model_metrics.json",
        "model",
        "json",
        (json.dumps(metrics, indent=2) + "\n").encode(),
    )


def _survival(corpus: Corpus, df: pd.DataFrame) -> None:
    km = KaplanMeierFitter().fit(df.time, df.died, label="all")
    at = [0, 90, 180, 270, 365, 540]
    points = pd.DataFrame({"survival": km.survival_function_at_times(at).round(3)})
    points.index.name = "day"
    corpus.add("sound", "km_at_times.csv", "survival", "csv", points.to_csv().encode())
    corpus.add("sound", "km_at_times.txt", "survival", "txt", f"{points}\n".encode())
    median = pd.DataFrame({"median_days": [km.median_survival_time_]}, index=["all"])
    corpus.add("sound", "km_median.csv", "survival", "csv", median.to_csv().encode())
    grouped = df.assign(
        period=pd.cut(
            df.time,
            [0, 365, 540, 1000],
            right=False,
            labels=["0-364", "365-539", "540+"],
        )
    )
    life = grouped.groupby("period", observed=True).agg(events=("died", "sum"), n=("died", "size"))
    life["at_risk"] = life.n[::-1].cumsum()[::-1]
    corpus.add(
        "sound", "life_table.csv", "survival", "csv", life[["at_risk", "events"]].to_csv().encode()
    )
    table = km.event_table
    corpus.add(
        "disclosive",
        "km_event_table.csv",
        "survival",
        "csv",
        table.to_csv().encode(),
        leak="threshold",
        why="every event time, with 1-2 events and a tail of few at risk",
    )
    corpus.add(
        "disclosive",
        "km_event_table.txt",
        "survival",
        "txt",
        f"{table}\n".encode(),
        leak="threshold",
        why="every event time",
    )
    sf = SurvfuncRight(df.time, df.died.astype(int))
    summary = sf.summary()
    corpus.add(
        "disclosive",
        "survfunc_summary.csv",
        "survival",
        "csv",
        summary.to_csv().encode(),
        leak="threshold",
        why="statsmodels' step table: each death a row",
    )
    corpus.add(
        "disclosive",
        "survfunc_summary.ipynb",
        "survival",
        "ipynb",
        tables.notebook([tables.code_cell("sf.summary()", [tables.shown(summary, 1)], 1)]),
        leak="threshold",
        why="statsmodels' step table in a notebook",
    )
    figure = plt.figure(figsize=(5, 3.5))
    km.plot_survival_function(ax=figure.add_subplot())
    corpus.add("sound", "km_curve.png", "image", "png", _png(figure))


def _printed_notebook(code: str, text: str) -> bytes:
    return tables.notebook([tables.code_cell(code, [tables.printed(text)], 1)])


def _images(corpus: Corpus, df: pd.DataFrame) -> None:
    figure = plt.figure(figsize=(5, 3.5))
    figure.add_subplot().hist(df.age, bins=range(20, 100, 10))
    corpus.add("sound", "age_histogram.png", "image", "png", _png(figure))
    figure = plt.figure(figsize=(5, 3.5))
    counts = df.drug.value_counts().sort_index()
    axes = figure.add_subplot()
    axes.bar(counts.index, counts.to_numpy())
    corpus.add("sound", "patients_by_drug.png", "image", "png", _png(figure))
    figure = plt.figure(figsize=(5, 3.5))
    counts = df.departement.value_counts().sort_index()
    axes = figure.add_subplot()
    bars = axes.bar(counts.index, counts.to_numpy())
    axes.bar_label(bars)
    corpus.add(
        "disclosive",
        "patients_by_departement.png",
        "image",
        "png",
        _png(figure),
        leak="threshold",
        why="bars labelled with their counts, 48 with 3",
    )
    figure = plt.figure(figsize=(5, 3.5))
    rare = df[df.departement == "48"]
    figure.add_subplot().scatter(rare.age, rare.cost)
    corpus.add(
        "disclosive",
        "cost_scatter_48.png",
        "image",
        "png",
        _png(figure),
        leak="listing",
        why="each point a patient of département 48",
    )


METHODS = """\
## Methods

Patients who started an early-access treatment between 8 January 2024 and 30 June 2025 were
included; follow-up ended on 31 October 2026. Survival was estimated with the Kaplan-Meier
method and compared with a Cox model adjusted for age and ECOG performance status (0-3).
Two-sided p-values below 0.05 were considered significant. Analyses used Python 3.11 with
pandas 2, statsmodels 0.14 and lifelines 0.30.
"""
RESULTS = """\
## Results

Of the 2,000 patients included, 1,022 (51.1 %) were women; the mean age was 58.4 years
(SD 17.2). Over a median follow-up of 11.9 months, 131 patients died. Survival did not differ
between drugs (log-rank p = 0.41). Mortality increased with ECOG status (hazard ratio 1.21
per point, 95 % CI 1.02-1.43).
"""
LEAKY_PROSE = {
    "case_report.md": (
        "## Notable cases\n\nThe two patients with a grade-5 myocarditis were a 71-year-old man "
        "treated in Lozère and a woman of 64; both died within three days.\n",
        "threshold",
        "two patients described one by one",
    ),
    "contact.md": (
        "Data questions: contact the investigator at j.martin@chu-exemple.fr or 06 12 34 56 78.\n",
        "identifier",
        "an e-mail address and a phone number",
    ),
    "nir_in_notes.txt": (
        "Patient check: NIR 2 84 05 75 115 422 55 — duplicate record merged.\n",
        "identifier",
        "a social-security number whose key checks",
    ),
    "small_counts.md": (
        "In département 48, 3 patients were treated, and 2 of them died.\n",
        "threshold",
        "counts of 3 and 2 in a sentence",
    ),
    "pseudonym_in_text.txt": (
        "Outlier to re-check: patient {pseudonym} (CRP 104.8 mg/L).\n",
        "listing",
        "a patient's pseudonym and value",
    ),
}


def _prose(corpus: Corpus, df: pd.DataFrame) -> None:
    corpus.add("sound", "methods.md", "prose", "md", METHODS.encode())
    corpus.add("sound", "results.md", "prose", "md", RESULTS.encode())
    corpus.add(
        "sound",
        "analysis.ipynb",
        "notebook",
        "ipynb",
        tables.notebook(
            [
                tables.markdown_cell(METHODS, 1),
                tables.code_cell(
                    "summary = df.groupby('drug').age.describe().drop(columns=['min', 'max'])\n"
                    "summary.round(1)",
                    [
                        tables.shown(
                            df.groupby("drug").age.describe().drop(columns=["min", "max"]).round(1),
                            1,
                        )
                    ],
                    1,
                ),
                tables.code_cell(
                    "ols = smf.ols('crp ~ age + ecog', data=df).fit()\nols.params.round(3)",
                    [tables.shown(smf.ols("crp ~ age + ecog", data=df).fit().params.round(3), 2)],
                    2,
                ),
                tables.markdown_cell(RESULTS, 3),
            ]
        ),
    )
    for name, (text, leak, why) in LEAKY_PROSE.items():
        content = text.format(pseudonym=df.patient.iloc[int(df.crp.to_numpy().argmax())])
        corpus.add(
            "disclosive",
            name,
            "prose",
            name.rsplit(".", 1)[1],
            content.encode(),
            leak=leak,
            why=why,
        )
    listing = df.loc[df.departement == "48", ["patient", "age", "sex", "cost"]]
    corpus.add(
        "disclosive",
        "listing_printed.ipynb",
        "notebook",
        "ipynb",
        tables.notebook(
            [
                tables.code_cell(
                    "for row in df[df.departement == '48'].itertuples():\n"
                    "    print(row.patient, row.age, row.sex, row.cost)",
                    [
                        tables.printed(
                            "".join(
                                f"{r.patient} {r.age} {r.sex} {r.cost}\n"
                                for r in listing.itertuples()
                            )
                        )
                    ],
                    1,
                )
            ]
        ),
        leak="listing",
        why="each patient of département 48 printed",
    )


def _safe_outputs(corpus: Corpus, df: pd.DataFrame) -> None:
    """The helpers used as documented; each output with its evidence, as a folder."""

    def run(
        label: str, name: str, kind: str, call: Any, leak: str | None = None, why: str = ""
    ) -> None:
        with tempfile.TemporaryDirectory() as folder, contextlib.redirect_stderr(io.StringIO()):
            call(folder)
            files = {p.name: p.read_bytes() for p in sorted(Path(folder).iterdir())}
        corpus.add(label, f"safe_{name}", kind, "safe", files, leak=leak, why=why)

    with fixed_clock():
        run(
            "sound",
            "crosstab",
            "table",
            lambda o: safe.crosstab(df.sex, df.drug, name="t", outputs=o),
        )
        run(
            "sound",
            "crosstab_suppressed",
            "table",
            lambda o: safe.crosstab(df.departement, df.sex, suppress=True, name="t", outputs=o),
        )
        run(
            "sound",
            "crosstab_margins",
            "table",
            lambda o: safe.crosstab(df.stage, df.ecog, margins=True, name="t", outputs=o),
        )
        run(
            "sound",
            "pivot_mean_cost",
            "table",
            lambda o: safe.pivot_table(
                df,
                values="cost",
                index="sex",
                columns="drug",
                aggfunc="mean",
                unit="patient",
                name="t",
                outputs=o,
            ),
        )
        run(
            "sound",
            "pivot_sum_cost",
            "table",
            lambda o: safe.pivot_table(
                df,
                values="cost",
                index="stage",
                columns="sex",
                aggfunc="sum",
                unit="patient",
                name="t",
                outputs=o,
            ),
        )
        run(
            "sound",
            "ols",
            "model",
            lambda o: safe.ols("crp ~ age + C(sex) + ecog", data=df, name="t", outputs=o).fit(),
        )
        run(
            "sound",
            "logit",
            "model",
            lambda o: safe.logit(
                "died ~ age + ecog", data=df.assign(died=df.died.astype(int)), name="t", outputs=o
            ).fit(disp=0),
        )
        run(
            "sound",
            "surv_func_interval",
            "survival",
            lambda o: safe.surv_func(
                df.time, df.died.astype(int), interval=90, name="t", outputs=o
            ),
        )
        run(
            "sound",
            "hist",
            "image",
            lambda o: safe.hist(df.age, bins=7, range=(20, 90), name="t", outputs=o),
        )
        run(
            "disclosive",
            "crosstab_unsuppressed",
            "table",
            lambda o: safe.crosstab(df.departement, df.sex, name="t", outputs=o),
            "threshold",
            "département 48 without suppression",
        )
        run(
            "disclosive",
            "pivot_sum_dominated",
            "table",
            lambda o: safe.pivot_table(
                df,
                values="cost",
                index="departement",
                columns="sex",
                aggfunc="sum",
                unit="patient",
                name="t",
                outputs=o,
            ),
            "dominance",
            "one patient makes 48's total",
        )
        run(
            "disclosive",
            "surv_func_steps",
            "survival",
            lambda o: safe.surv_func(df.time, df.died.astype(int), name="t", outputs=o),
            "threshold",
            "every step of the curve: 1 death each",
        )
        run(
            "disclosive",
            "hist_tails",
            "image",
            lambda o: safe.hist(df.crp, bins=40, name="t", outputs=o),
            "threshold",
            "tail bins of 1-2 patients",
        )


def build(folder: Path) -> Corpus:
    """Write the corpus into ``folder`` (which must not exist yet)."""
    folder.mkdir(parents=True)
    corpus = Corpus(folder)
    df = cohort()
    _table_outputs(corpus, df)
    _models(corpus, df)
    _survival(corpus, df)
    _images(corpus, df)
    _prose(corpus, df)
    _safe_outputs(corpus, df)
    (folder / "corpus.json").write_bytes(corpus.manifest())
    return corpus


def main(argv: list[str]) -> int:
    folder = Path(argv[0]) if argv else DEFAULT
    if folder.exists():
        sys.stderr.write(f"{folder} exists: remove it first, the corpus is written whole\n")
        return 2
    corpus = build(folder)
    counts = pd.Series([o.label for o in corpus.outputs]).value_counts().to_dict()
    sys.stdout.write(f"{folder}: {counts}\n")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("MPLBACKEND", "Agg")
    raise SystemExit(main(sys.argv[1:]))
