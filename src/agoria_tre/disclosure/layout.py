"""What each cell of a table measures, decided once for every rule.

A reader gives a :class:`~agoria_tre.disclosure.readers.table.Table` (label columns, a
header, data cells). :func:`layout` decides, from positions, header and label words
(French and English) and the shapes of values:

- which leading columns are **labels** even though they hold numbers (ECOG 0-3, years,
  département codes, a pandas row index): they are moved into the labels, never counted;
- whether the **measures run along the columns** (``n``, ``pct``, ``mean``…, the usual
  case) or **along the rows** (``describe()``'s ``count``/``mean``/``25%`` rows, a
  "Table 1" whose rows read ``N``, ``Age, mean (SD)``, ``Sex, n (%)``);
- the :class:`Measure` of each data column (or row): a count of units, a percentage, a
  running total, a magnitude (a sum of euros or days), an exposure (person-years), a
  descriptive statistic, a quantile, an extreme, a model coefficient, a test statistic;
- for each cell whose value rests on several units, the count of those units when the
  table shows it (its row's ``n``, its column's ``count``).

Rules then read measures instead of guessing again: the threshold applies to counts,
extremes fail, quantiles and statistics over a shown count of units pass or fail with that
count, magnitudes need evidence of their contributors.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from functools import cached_property, lru_cache

import numpy as np
from numpy.typing import NDArray

from agoria_tre.disclosure.readers.table import (
    MARGIN_LABELS,
    Table,
    is_label_column,
    number,
    statistic_tokens,
)
from agoria_tre.disclosure.readers.table import SUM_WORDS as TABLE_SUM_WORDS
from agoria_tre.disclosure.vocabulary import vocabulary


class Measure(StrEnum):
    COUNT = "count"  # units: patients, events, stays
    PERCENT = "percentage"
    CUMULATIVE = "cumulative"  # a running total of counts
    MAGNITUDE = "magnitude"  # a sum (or value) of a variable over units: euros, days, mg
    EXPOSURE = "exposure"  # person-time, the denominator of a rate
    STATISTIC = "statistic"  # mean, standard deviation, rate, survival probability
    QUANTILE = "quantile"  # median, quartiles, percentiles
    EXTREME = "extreme"  # minimum, maximum: one unit's value
    MODEL = "model"  # a model's coefficients, standard errors, intervals, ratios
    TEST = "test"  # a test's statistic, p-value, degrees of freedom; a model's metrics


COUNT_WORDS = vocabulary(
    "n nb nbr nombre count counts effectif effectifs size freq frequency fréquence frequence"
    " patients patient cases cas individus individuals persons people personnes subjects sujets"
    " observations obs nobs events evenements événements evenement événement deaths death deces"
    " décès died dead morts observed censored censures censurés removed entrance at_risk"
    " contributors units support admissions sejours séjours stays hospitalisations"
    " participants"
)
PERCENT_WORDS = vocabulary(
    "pct percent percentage percentages pourcentage pourcentages prop proportion proportions"
    " share part"
)
CUMULATIVE_WORDS = vocabulary("cum cumul cumulative cumulé cumule cumsum running")
EXTREME_WORDS = vocabulary("min max minimum maximum amin amax range étendue etendue")
QUANTILE_WORDS = vocabulary(
    "median médiane mediane quantile quantiles percentile percentiles quartile quartiles q1 q3"
    " p5 p10 p25 p50 p75 p90 p95 iqr decile décile"
)
STATISTIC_WORDS = vocabulary(
    "mean means moyenne moyennes moy average avg sd std stdev stddev sem var variance"
    " écart ecart rate rates taux incidence survival surv km probability prob kappa correlation"
    " corr"
)
MODEL_WORDS = vocabulary(
    "coef coefficient coefficients beta estimate estimates estimation odds hazard ratio lower"
    " upper err intercept"
)
TEST_WORDS = vocabulary(
    "pvalue pval chi2 chi chisq statistic stat df dof ddl auc accuracy precision recall f1"
    " loglik aic bic deviance r2 rmse mae"
)
# Letters that name a statistic only as a whole header, as statsmodels and scipy print them
# ("t", "z", "P>|t|", "p", "OR"): as words they are sexes ("F"), initials, articles.
_TEST_HEADER = re.compile(r"^\s*(?:[tzp]|p[ _.-]?val(?:ue)?|P>\|[tz]\||Pr\(>\|[tz]\|\))\s*$")
_MODEL_HEADER = re.compile(
    r"^\s*(?:OR|HR|RR|IRR|aOR|aHR|β|exp\(coef\)|(?:95\s?%\s?)?(?:CI|IC)(?:\s?95\s?%)?"
    r"|LCL|UCL)\s*$",
    re.IGNORECASE,
)
SUM_WORDS = TABLE_SUM_WORDS - CUMULATIVE_WORDS  # a sum, not a running one
_MEASURE_WORDS = (
    COUNT_WORDS
    | PERCENT_WORDS
    | CUMULATIVE_WORDS
    | EXTREME_WORDS
    | QUANTILE_WORDS
    | STATISTIC_WORDS
    | MODEL_WORDS
    | TEST_WORDS
    | TABLE_SUM_WORDS
    | {"%"}
)
MAGNITUDE_UNITS = {
    "euros": vocabulary(
        "cost costs cout coût couts coûts montant montants amount amounts euros"
        " eur € price prix expenditure depense dépense depenses dépenses income"
        " revenu revenus salary salaire"
    ),
    "days": vocabulary("days jours los duree durée length stay"),
    "mg": vocabulary("dose doses"),  # not "mg" alone: mg/L is a concentration
}
EXPOSURE_PAIRS = (
    frozenset({"person", "years"}),
    frozenset({"person", "time"}),
    frozenset({"patient", "years"}),
    frozenset({"personnes", "années"}),
    frozenset({"personnes", "annees"}),
)
_UNIT_WORDS = frozenset().union(*MAGNITUDE_UNITS.values())
EXPOSURE_WORDS = vocabulary("py pyrs")  # "exposure yes" is a category, person-years a measure
# Variables whose values name groups, not amounts: a leading column of them is a label.
LABEL_WORDS = vocabulary(
    "grade grades ecog stage stade year years annee année an month mois quarter trimestre week"
    " semaine day jour time timeline t period periode période dep departement"
    " département region région code cim icd cim10 icd10 level niveau levels score class classe"
    " group groupe band tranche cycle line ligne visit visite category categorie catégorie arm"
    " bras cohort cohorte site centre center hospital hopital hôpital etablissement finess"
    " dose_level bin decile quintile tertile"
)
INDEX_NAMES = frozenset({"", "index", "unnamed: 0", "unnamed:0", "level_0", "#", "row", "rownames"})
_QUANTILE_HEADER = re.compile(r"^\s*(?:q|p)?\d{1,2}(?:\.\d+)?\s*%?\s*$|^\s*\d{1,2}(?:\.\d+)?\s*%")
_COUNT_PERCENT = re.compile(r"\bn\s*[(\[]\s*%\s*[)\]]|\bn\s*,\s*%|\beffectif\s*[(\[]\s*%", re.I)
_CODE_SHAPE = re.compile(r"\d{1,3}|\d[ABab]|[0-9]{4}")


@lru_cache(maxsize=64)
def _any_word(words: frozenset[str]) -> re.Pattern[str]:
    return re.compile("|".join(sorted(map(re.escape, words), key=len, reverse=True)))


def mentions(words: frozenset[str], names: Sequence[str]) -> bool:
    """Whether any of ``words`` appears in ``names``, even inside a longer word: what
    :func:`words_of` can find there, looked for at once (a table has as many row labels as
    rows)."""
    return _any_word(words).search("\n".join(names).lower()) is not None


@lru_cache(maxsize=65536)
def words_of(name: str) -> frozenset[str]:
    """A header's words, lower-cased, camelCase and snake_case split; ``%`` is a word."""
    found = statistic_tokens(name)
    if "." in name:
        found |= statistic_tokens(name.replace(".", " "))
    if "%" in name:
        found.add("%")
    return frozenset(found)


@lru_cache(maxsize=65536)
def variable_of(name: str) -> frozenset[str]:
    """The words of a header that name its variable, not its measure: ``age`` in ``age
    mean`` and in ``count age``."""
    return words_of(name) - _MEASURE_WORDS


@lru_cache(maxsize=65536)
def measure_of(name: str) -> Measure | None:
    """What a header (or a row label) says its cells are, or None when it names no measure
    (``F``, ``Cardiovex``, ``2024``: a category)."""
    words = words_of(name)
    if _COUNT_PERCENT.search(name):
        return Measure.COUNT  # "n (%)": the cells read "259 (50.6)", a count first
    if _MODEL_HEADER.match(name):
        return Measure.MODEL
    if _TEST_HEADER.match(name):
        return Measure.TEST
    if words & EXTREME_WORDS:
        return Measure.EXTREME
    if words & QUANTILE_WORDS or (_QUANTILE_HEADER.match(name) and "%" in name):
        return Measure.QUANTILE
    if words & MODEL_WORDS and not words & COUNT_WORDS:
        return Measure.MODEL
    if words & CUMULATIVE_WORDS:
        if words & (PERCENT_WORDS | {"%"}):
            return Measure.PERCENT
        # a cumulative incidence is a proportion, not a running count
        return Measure.STATISTIC if words & STATISTIC_WORDS else Measure.CUMULATIVE
    if words & STATISTIC_WORDS:
        return Measure.STATISTIC
    if words & (PERCENT_WORDS | {"%"}):
        return Measure.PERCENT
    if any(pair <= words for pair in EXPOSURE_PAIRS) or words & EXPOSURE_WORDS:
        return Measure.EXPOSURE
    if words & TEST_WORDS and not words & COUNT_WORDS:
        return Measure.TEST
    if words & SUM_WORDS or unit_of(name) is not None:
        return Measure.MAGNITUDE
    if words & COUNT_WORDS or name.strip().lower() in MARGIN_LABELS:
        return Measure.COUNT
    return None


@lru_cache(maxsize=65536)
def unit_of(name: str) -> str | None:
    """The unit a magnitude header names (``cost`` → euros, ``los`` → days), if any."""
    words = words_of(name)
    if "€" in name:
        return "euros"
    for unit, unit_words in MAGNITUDE_UNITS.items():
        if words & unit_words:
            return unit
    return None


def _whole(values: Sequence[float | None]) -> bool:
    return all(v is not None and v == int(v) and v >= 0 for v in values)


def _label_shaped(name: str, cells: Sequence[str]) -> bool:
    """Whether a leading column of numbers names groups rather than counting them: a pandas
    row index (0..n-1 under an unnamed header), years, or codes and levels under a header
    that names a grouping variable (``ecog``, ``grade``, ``departement``)."""
    if not cells:
        return False
    if is_label_column(cells):
        return True  # text: the reader's own rule, applied after a column of numbers
    values = [number(c) for c in cells]
    key = name.strip().lower()
    words = words_of(name)
    measure = measure_of(name)
    # A grouping variable's name, nothing else ("grade_max", "dose_level", "ecog"; not
    # "group A", a category of another variable, whose cells are counts)
    grouping = (
        bool(words & LABEL_WORDS)
        and not words - LABEL_WORDS - EXTREME_WORDS - {"dose", "de", "of"}
        and measure in (None, Measure.EXTREME, Measure.MAGNITUDE)
    )
    levels = not words & EXTREME_WORDS or all(  # "grade_max": levels, not "time_max": days
        (v := number(c)) is not None and 0 <= v <= 20 for c in cells
    )
    if (
        grouping
        and levels
        and all(_CODE_SHAPE.fullmatch(c.strip()) or number(c) is None for c in cells)
    ):
        return True  # codes and levels ("0", "06", "2A", "autres") of a grouping variable
    if measure is not None:
        return False
    if not _whole(values):
        return False
    ints = [int(v) for v in values if v is not None]
    if key in INDEX_NAMES:
        return ints in (list(range(len(ints))), list(range(1, len(ints) + 1)))
    return all(1900 <= v <= 2100 for v in ints) and len(set(ints)) == len(ints)


def _relabelled(table: Table) -> Table:
    """``table`` with its leading label-shaped columns of numbers moved into the labels."""
    moved = 0
    while moved < len(table.header) - 1 and _label_shaped(
        table.header[moved], [row[moved] for row in table.cells]
    ):
        moved += 1
    if not moved:
        return table
    return replace(
        table,
        label_names=(*table.label_names, *table.header[:moved]),
        header=table.header[moved:],
        row_labels=tuple(
            (*labels, *row[:moved])
            for labels, row in zip(table.row_labels, table.cells, strict=True)
        ),
        cells=tuple(row[moved:] for row in table.cells),
    )


# Row labels that name a statistic, as describe() and a "Table 1" print them: a bare
# statistic's name ("count", "mean", "25%"), or a variable followed by the statistic it is
# summarised by ("Age, mean (SD)", "Sex, n (%)", "CRP, median [IQR]"). A category that merely
# holds such a word ("Upper respiratory tract", "Survival to discharge") is no statistic.
_ROW_STATISTIC = re.compile(
    r"^\s*(?:n|count|mean|std|sd|min|max|median|iqr|sem|var|\d{1,2}(?:\.\d+)?\s?%)\s*$"
    r"|,\s*(?:n|mean|median|sd|no\.?)\b|\((?:sd|%|iqr|range|min[-\u2013, ]+max)\)|\[iqr\]",
    re.IGNORECASE,
)


def _row_measures(table: Table) -> tuple[Measure | None, ...] | None:
    """Measures read from the rows' labels, when rows carry them (``describe()``, Table 1):
    a row whose label names no statistic takes the one of the section above it only when
    that section's row is a heading, its cells empty ("Sex, n (%)" then "F", "M"). None when
    the rows are groups."""
    if not table.row_labels or not table.row_labels[0]:
        return None
    labels = [labels[0] for labels in table.row_labels]
    named = [measure_of(label) if _ROW_STATISTIC.search(label) else None for label in labels]
    distinct = {label.strip().lower() for label, m in zip(labels, named, strict=True) if m}
    columns_named = sum(measure_of(h) is not None for h in table.header)
    if len(distinct) < 2 or columns_named * 2 > len(table.header):
        return None
    out: list[Measure | None] = []
    section: Measure | None = None
    for measure, row in zip(named, table.cells, strict=True):
        heading = all(not cell.strip() for cell in row)
        if measure is not None:
            section = measure if heading else None
            out.append(measure)
        else:
            out.append(section)
    return tuple(out)


_named = np.vectorize(lambda unit: unit is not None, otypes=[bool])


@dataclass(frozen=True)
class Layout:
    """A table with the measure of every data cell decided."""

    table: Table
    along_rows: bool  # measures read from the rows' labels, not the columns' headers
    measures: tuple[Measure | None, ...]  # per data column, or per data row if along_rows
    units: tuple[str | None, ...]  # per data column or row: a magnitude's unit
    assumed: bool  # no header or label named a measure: whole numbers read as counts

    @cached_property
    def grid(self) -> NDArray[np.object_]:
        """The measure of each data cell (None: a cell of a category with no measure)."""
        rows, cols = self.table.shape
        out = np.empty((rows, cols), dtype=object)
        for k, measure in enumerate(self.measures):
            if self.along_rows:
                out[k, :] = measure
            else:
                out[:, k] = measure
        return out

    @cached_property
    def unit(self) -> str | None:
        """The unit of a magnitude the table names anywhere (a header, a label column's name,
        a row label: ``cost``, ``los``), which its means and sums are in."""
        names = [*self.table.label_names, *self.table.header]
        labels = [label for labels in self.table.row_labels for label in labels]
        if mentions(_UNIT_WORDS | {"€"}, labels):
            names += labels
        return next((u for u in map(unit_of, names) if u is not None), None)

    @cached_property
    def cell_units(self) -> NDArray[np.object_]:
        """The unit of each data cell's variable: its row's or its column's (the ``cost``
        column of a ``describe()``, the ``mean cost`` column beside ``mean age``); where no
        row or column names one, the table's (:attr:`unit`, from a label column's name)."""
        table = self.table
        rows, cols = table.shape
        labels = [" ".join(labels) for labels in table.row_labels]
        by_row = np.full((rows, 1), None, dtype=object)
        if mentions(_UNIT_WORDS | {"€"}, labels):
            by_row[:, 0] = [unit_of(label) for label in labels]
        by_column = np.full((1, cols), None, dtype=object)
        by_column[0, :] = [unit_of(h) for h in table.header]
        out = np.where(_named(by_row), by_row, by_column)
        if not _named(out).any():
            out = np.full((rows, cols), self.unit, dtype=object)
        return np.asarray(out, dtype=object)

    @cached_property
    def in_a_unit(self) -> NDArray[np.bool_]:
        """Cells whose variable is in euros, days or milligrams."""
        return np.asarray(_named(self.cell_units), dtype=bool)

    def mask(self, *measures: Measure) -> NDArray[np.bool_]:
        """The data cells of any of these measures (the :attr:`grid` compared, line by line)."""
        picked = np.array([m in measures for m in self.measures], dtype=bool)
        lines = picked[:, np.newaxis] if self.along_rows else picked[np.newaxis, :]
        return np.array(np.broadcast_to(lines, self.table.shape), dtype=bool)

    @property
    def only_counts(self) -> bool:
        """A frequency table: every data cell a count of units."""
        return bool(self.measures) and all(m is Measure.COUNT for m in self.measures)

    @cached_property
    def units_behind(self) -> NDArray[np.float64]:
        """For each cell, the count of units the table shows for it (its row's ``n``, its
        column's ``count``), NaN where the table shows none. With several counts, a measure
        takes the count of the same variable (``age mean`` the ``age count``, in either
        order), else the first count."""
        rows, cols = self.table.shape
        out = np.full((rows, cols), np.nan)
        counts = [k for k, m in enumerate(self.measures) if m is Measure.COUNT]
        if not counts:
            return out
        values = self.table.values if self.along_rows else self.table.values.T
        names = (
            [" ".join(labels) for labels in self.table.row_labels]
            if self.along_rows
            else list(self.table.header)
        )
        by_variable = {
            variable_of(names[k]): k for k in reversed(counts) if not np.isnan(values[k]).all()
        }  # a section's heading ("Sex, n (%)") counts nothing itself
        by_variable.pop(frozenset(), None)
        for k, measure in enumerate(self.measures):
            variable = frozenset() if measure is Measure.COUNT else variable_of(names[k])
            behind = values[by_variable.get(variable, counts[0])]
            if self.along_rows:
                out[k, :] = behind
            else:
                out[:, k] = behind
        return out


def _filled(
    measures: Sequence[Measure | None], values: NDArray[np.float64]
) -> tuple[Measure | None, ...]:
    """Columns (rows of ``values``) that name no measure: whole numbers are counts (a
    frequency table's categories: ``F``, ``M``, ``2024``), other numbers magnitudes."""
    out: list[Measure | None] = []
    for k, measure in enumerate(measures):
        if measure is None:
            shown = values[k][~np.isnan(values[k])]
            whole = bool(np.all(shown == np.round(shown))) and not (shown < 0).any()
            measure = Measure.COUNT if whole else Measure.MAGNITUDE
        out.append(measure)
    return tuple(out)


def layout(table: Table) -> Layout:
    """Decide what each cell of ``table`` measures (see the module docstring)."""
    table = _relabelled(table)
    rows = _row_measures(table)
    if rows is not None:
        units = tuple(unit_of(labels[0]) for labels in table.row_labels)
        return Layout(table, True, _filled(rows, table.values), units, assumed=False)
    named = [measure_of(h) for h in table.header]
    if {Measure.STATISTIC, Measure.QUANTILE} & set(named):
        # "hospital,total,mean": beside statistics, a total is the variable's sum
        named = [
            Measure.MAGNITUDE if m is Measure.COUNT and h.strip().lower() in MARGIN_LABELS else m
            for m, h in zip(named, table.header, strict=True)
        ]
    units = tuple(unit_of(h) for h in table.header)
    assumed = all(
        m is None or h.strip().lower() in MARGIN_LABELS
        for m, h in zip(named, table.header, strict=True)
    )
    return Layout(table, False, _filled(named, table.values.T), units, assumed=assumed)
