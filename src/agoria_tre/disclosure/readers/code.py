"""What a notebook code cell shows, read from its syntax tree (never executed).

An output that is a table says what it holds (its headers and labels, read by the table
readers). An output that is a bare number or a list does not: ``7`` may be a count, an
age or a maximum. :func:`shown` reads the cell with :mod:`ast` and tells, for what the cell
prints (its last expression, its ``print``/``display`` calls), what that value is computed
as, following names assigned earlier in the cell and loop variables:

- ``count``: ``len(...)``, ``.shape[0]``, ``.size``, ``.sum()``, ``.count()``,
  ``.nunique()``, ``.value_counts()``, a group's ``.size()``;
- ``extreme``: ``.max()``/``.min()``/``.idxmax()``, ``max(...)``, ``np.max``/``np.ptp``…,
  ``.nlargest()``, the first or last values after a sort, ``agg('max')``,
  ``aggfunc='min'``, ``quantile(0 or 1)`` — over individuals, not over groups already
  aggregated (the largest count of a ``value_counts()`` is a group's, unless the groups are
  units: ``groupby('patient')``);
- ``quantile``: ``.median()``, ``.quantile(q)``, ``np.percentile``;
- ``values``: a column's values listed (``.tolist()``, ``.values``, ``list(df.age)``, a loop
  over ``itertuples()`` printing its rows);
- ``distinct``: a column's distinct values (``.unique()``, ``set(...)``, ``np.unique``).

Model attributes (``params``, ``pvalues``, ``coef_``…) and frame metadata (``columns``,
``dtypes``) are none of these. A cell that does not parse (magics removed) shows nothing
this module can name.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
import warnings
from dataclasses import dataclass, field
from enum import StrEnum

from agoria_tre.disclosure.vocabulary import vocabulary


class Computes(StrEnum):
    COUNT = "count"
    EXTREME = "extreme"
    QUANTILE = "quantile"
    VALUES = "values"
    DISTINCT = "distinct"


@dataclass(frozen=True)
class _Value:
    """What an expression evaluates to, as far as disclosure goes."""

    computes: frozenset[Computes] = frozenset()
    data: bool = False  # individuals' data (a frame, a column, a row), not yet aggregated
    aggregated: bool = False  # groups' values: counts, means, a crosstab
    by_unit: bool = False  # grouped by unit identifiers: groups are individuals
    sorted: bool = False
    names: frozenset[str] = frozenset()  # column names met on the way ("age", "cost")
    # When it prints as a sequence of numbers (a tuple, a print of several values), what
    # each number is: ``df.shape`` is (a count, a number of columns).
    parts: tuple[frozenset[Computes], ...] | None = None

    def adding(self, *kinds: Computes, **changes: bool) -> _Value:
        values = {
            "computes": self.computes | frozenset(kinds),
            "data": self.data,
            "aggregated": self.aggregated,
            "by_unit": self.by_unit,
            "sorted": self.sorted,
            "names": self.names,
        }
        values.update(changes)
        return _Value(**values)  # type: ignore[arg-type]

    @property
    def individual(self) -> bool:
        """Individuals' values: data not aggregated yet, or aggregated per unit."""
        return (self.data and not self.aggregated) or self.by_unit

    @property
    def numbers(self) -> tuple[frozenset[Computes], ...]:
        return self.parts if self.parts is not None else (self.computes,)


@dataclass(frozen=True)
class Shown:
    computes: frozenset[Computes]
    line: str  # the source line that shows it, for the reviewer
    names: frozenset[str] = field(default=frozenset())
    parts: tuple[frozenset[Computes], ...] | None = None  # see _Value.parts


_DATA = _Value(data=True)
_NOTHING = _Value()
COUNTING = vocabulary("sum count nunique value_counts size")
AGGREGATING = COUNTING | vocabulary(
    "mean median std var sem agg aggregate describe corr cov cumsum pct_change isna isnull"
    " notna notnull quantile prod mode skew kurt crosstab pivot_table pivot"
)
EXTREMES = vocabulary("max min idxmax idxmin amax amin nanmax nanmin ptp argmax argmin")
LISTING = vocabulary("tolist to_list to_numpy")
DISTINCT = vocabulary("unique drop_duplicates")
QUANTILES = vocabulary("median nanmedian quantile nanquantile percentile nanpercentile")
METADATA = vocabulary(
    "columns index keys dtypes dtype params pvalues bse tvalues coef_ intercept_ classes_"
    " feature_importances_ conf_int fittedvalues predict predict_proba survival_function_"
    " cumulative_density_ confidence_interval_ event_table cv_results_ categories codes"
    " explained_variance_ explained_variance_ratio_ components_ labels_ cluster_centers_"
    " rsquared rsquared_adj aic bic llf summary nobs df_resid df_model"
)
ROWS = vocabulary("itertuples iterrows items iteritems")
_UNIT_NAME = re.compile(
    r"id|patient|pid|person|subject|sujet|nir|ipp|dossier|ident|stay|sejour|séjour", re.I
)
_MAGIC = re.compile(r"^[ \t]*[%!?].*$", re.M)


def _edge(node: ast.expr) -> bool:
    """A quantile level at an edge: 0 or 1 (or 0/100 for percentiles), alone or listed."""
    items = node.elts if isinstance(node, ast.List | ast.Tuple) else [node]
    return any(
        isinstance(item, ast.Constant)
        and isinstance(item.value, int | float)
        and not isinstance(item.value, bool)
        and item.value in (0, 1, 100)
        for item in items
    )


def _strings(node: ast.expr) -> list[str]:
    items = node.elts if isinstance(node, ast.List | ast.Tuple) else [node]
    out = []
    for item in items:
        if isinstance(item, ast.Constant) and isinstance(item.value, str):
            out.append(item.value)
        elif isinstance(item, ast.Attribute):
            out.append(item.attr)
        elif isinstance(item, ast.Name):
            out.append(item.id)
    return out


def _is_text(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str)


def _sequence(values: list[_Value]) -> _Value:
    """Several values printed one after the other: what each of their numbers is."""
    parts = tuple(part for value in values for part in value.numbers)
    return _Value(
        computes=frozenset().union(*(v.computes for v in values)),
        names=frozenset().union(*(v.names for v in values)),
        parts=parts,
    )


class _Reader:
    def __init__(self) -> None:
        self.names: dict[str, _Value] = {}

    def value(self, node: ast.expr) -> _Value:
        if isinstance(node, ast.Name):
            return self.names.get(node.id, _DATA)
        if isinstance(node, ast.Constant):
            return _NOTHING
        if isinstance(node, ast.Attribute):
            return self._attribute(node)
        if isinstance(node, ast.Subscript):
            return self._subscript(node)
        if isinstance(node, ast.Call):
            return self._call(node)
        if isinstance(node, ast.JoinedStr):
            parts = [self.value(v.value) for v in node.values if isinstance(v, ast.FormattedValue)]
            return _Value(computes=frozenset().union(*(p.computes for p in parts)))
        if isinstance(node, ast.BinOp):
            left, right = self.value(node.left), self.value(node.right)
            return _Value(computes=left.computes | right.computes, aggregated=True)
        if isinstance(node, ast.List | ast.Tuple | ast.Set):
            return _sequence([self.value(e) for e in node.elts])
        return _NOTHING

    def _attribute(self, node: ast.Attribute) -> _Value:
        inner = self.value(node.value)
        attr = node.attr
        if attr in METADATA:
            return _NOTHING
        if attr == "shape":
            counted = frozenset({Computes.COUNT})
            return _Value(computes=counted, aggregated=True, parts=(counted, frozenset()))
        if attr == "size" and inner.data:
            return inner.adding(Computes.COUNT, aggregated=True, data=False)
        if attr in ("values", "array") and inner.data and not inner.aggregated:
            return inner.adding(Computes.VALUES)
        if inner.data:
            return _Value(**{**inner.__dict__, "names": inner.names | {attr}})
        return inner

    def _subscript(self, node: ast.Subscript) -> _Value:
        inner = self.value(node.value)
        index = node.slice
        if isinstance(node.value, ast.Attribute) and node.value.attr == "shape":
            rows = isinstance(index, ast.Constant) and index.value == 0
            return _Value(computes=frozenset({Computes.COUNT} if rows else set()))
        if inner.sorted and not inner.aggregated:
            return inner.adding(Computes.EXTREME)  # the first or last after a sort
        if inner.aggregated and set(_strings(index)) & EXTREMES:
            return inner.adding(Computes.EXTREME)  # describe()[['min', 'max']], .loc['max']
        names = frozenset(_strings(index)) if isinstance(index, ast.Constant | ast.List) else None
        if names and inner.data:
            return _Value(**{**inner.__dict__, "names": inner.names | names})
        return inner

    def _call(self, node: ast.Call) -> _Value:
        func = node.func
        args = [self.value(a) for a in node.args]
        first = args[0] if args else _NOTHING
        for keyword in node.keywords:
            if keyword.arg == "aggfunc" and set(_strings(keyword.value)) & EXTREMES:
                return _Value(computes=frozenset({Computes.EXTREME}))
        if isinstance(func, ast.Name):
            return self._function(func.id, node, first)
        if not isinstance(func, ast.Attribute):
            return _NOTHING
        name = func.attr
        if isinstance(func.value, ast.Name) and func.value.id in ("np", "numpy", "pd", "pandas"):
            return self._function(name, node, first, module=True)
        inner = self.value(func.value)
        return self._method(name, node, inner)

    def _function(self, name: str, node: ast.Call, first: _Value, module: bool = False) -> _Value:
        individual = first.individual
        if name == "len" and not module:
            return _Value(computes=frozenset({Computes.COUNT} if first.data else set()))
        if name in ("sum", "count_nonzero", "nansum") and first.data:
            return first.adding(Computes.COUNT, aggregated=True, data=False)
        if name in EXTREMES and individual:
            return first.adding(Computes.EXTREME, aggregated=True, data=False)
        if name in QUANTILES and module and first.data:
            level = node.args[1] if len(node.args) > 1 else None
            kind = Computes.EXTREME if level is not None and _edge(level) else Computes.QUANTILE
            return first.adding(kind, aggregated=True, data=False)
        if name in ("list", "tuple", "array", "asarray", "sorted", "sort") and individual:
            return first.adding(Computes.VALUES, sorted=name in ("sorted", "sort"))
        if name in ("set", "unique") and individual:
            return first.adding(Computes.DISTINCT)
        if name in ("crosstab", "pivot_table") and module:
            return _Value(aggregated=True)
        return _NOTHING

    def _method(self, name: str, node: ast.Call, inner: _Value) -> _Value:
        individual = inner.individual
        if name == "groupby":
            keys = [s for a in node.args for s in _strings(a)]
            by_unit = any(_UNIT_NAME.search(k) for k in keys)
            return _Value(**{**inner.__dict__, "by_unit": by_unit})
        if name in EXTREMES:
            if individual:
                return inner.adding(Computes.EXTREME, aggregated=True, data=False)
            return inner
        if name in ("nlargest", "nsmallest") and individual:
            return inner.adding(Computes.EXTREME)
        if name in ("head", "tail") and inner.sorted and individual:
            return inner.adding(Computes.EXTREME)
        if name in ("sort_values", "sort_index", "sort"):
            return _Value(**{**inner.__dict__, "sorted": name != "sort_index"})
        if name in ("agg", "aggregate", "apply", "transform"):
            wanted = {s for a in node.args for s in _strings(a)}
            if wanted & (EXTREMES | {"first", "last"}) and individual:
                return inner.adding(Computes.EXTREME, aggregated=True, data=False)
            if wanted & {"list", "tuple", "set", "sorted", "array"} and individual:
                return inner.adding(Computes.VALUES)
            return inner.adding(aggregated=True, data=False) if name.startswith("agg") else inner
        if name in ("quantile", "nanquantile", "percentile"):
            level = node.args[0] if node.args else None
            edge = level is not None and _edge(level)
            kind = Computes.EXTREME if edge and individual else Computes.QUANTILE
            return inner.adding(kind, aggregated=True, data=False)
        if name == "median":
            return inner.adding(Computes.QUANTILE, aggregated=True, data=False)
        if name in COUNTING:
            if inner.aggregated and not inner.by_unit and name != "size":
                return inner  # a sum of counts: still counts, not a new kind
            return inner.adding(Computes.COUNT, aggregated=True, data=False)
        if name in AGGREGATING:
            return inner.adding(aggregated=True, data=False)
        if name in LISTING and individual:
            return inner.adding(Computes.VALUES)
        if name in DISTINCT and individual:
            return inner.adding(Computes.DISTINCT)
        if name in ROWS and inner.data:
            return inner.adding(Computes.VALUES)
        return inner

    def statement(self, node: ast.stmt, shown: list[tuple[_Value, ast.expr | ast.stmt]]) -> None:
        if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
            value = self.value(node.value)
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if (
                    isinstance(target, ast.Tuple | ast.List)
                    and value.parts is not None
                    and len(value.parts) == len(target.elts)
                ):  # rows, cols = df.shape: each name its own part
                    for element, part in zip(target.elts, value.parts, strict=True):
                        if isinstance(element, ast.Name):
                            self.names[element.id] = _Value(computes=part)
                    continue
                for name in ast.walk(target):
                    if isinstance(name, ast.Name):
                        self.names[name.id] = value
        elif isinstance(node, ast.For | ast.AsyncFor):
            over = self.value(node.iter)
            row = over.adding(Computes.VALUES) if over.data and not over.aggregated else over
            for name in ast.walk(node.target):
                if isinstance(name, ast.Name):
                    self.names[name.id] = row
            for inner in node.body:
                self.statement(inner, shown)
        elif isinstance(node, ast.If | ast.With | ast.AsyncWith | ast.Try):
            branches = [node.body, getattr(node, "orelse", []), getattr(node, "finalbody", [])]
            for inner in (s for branch in branches for s in branch):
                self.statement(inner, shown)
        elif isinstance(node, ast.Expr):
            call = node.value
            if (
                isinstance(call, ast.Call)
                and isinstance(call.func, ast.Name)
                and call.func.id in ("print", "display")
            ):
                printed = [a for a in call.args if not _is_text(a)]
                shown.append((_sequence([self.value(a) for a in printed]), call))


def shown(source: str) -> list[Shown]:
    """What the cell shows, each with what it is computed as (empty kinds: nothing known)."""
    cleaned = _MAGIC.sub("", source)
    try:
        with warnings.catch_warnings():  # the cell's own syntax warnings are not the checker's
            warnings.simplefilter("ignore", SyntaxWarning)
            warnings.simplefilter("ignore", DeprecationWarning)
            tree = ast.parse(cleaned)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return []
    reader = _Reader()
    found: list[tuple[_Value, ast.expr | ast.stmt]] = []
    body = tree.body
    for statement in body:
        reader.statement(statement, found)
    last = body[-1] if body else None
    if isinstance(last, ast.Expr) and not (
        isinstance(last.value, ast.Call)
        and isinstance(last.value.func, ast.Name)
        and last.value.func.id in ("print", "display")
    ):
        found.append((reader.value(last.value), last))
    lines = cleaned.splitlines()
    return [
        Shown(
            value.computes,
            lines[node.lineno - 1],
            value.names,
            value.parts,
        )
        for value, node in found
    ]


# String tokens: Python 3.12 splits f-strings into parts (FSTRING_MIDDLE is their text).
_STRINGS = {tokenize.STRING, getattr(tokenize, "FSTRING_MIDDLE", tokenize.STRING)}
_LITERAL_ASSIGNMENT = re.compile(r"^[ \t]*([A-Za-z_]\w*)[ \t]*=[ \t]*(\d+)[ \t]*(?:#.*)?$", re.M)
_STRING_QUOTES = re.compile(r"^[A-Za-z]*(?:'''|\"\"\"|'|\")|(?:'''|\"\"\"|'|\")$")


def prose(source: str) -> str:
    """What a code cell says in words: its comments and string literals (one a line), and
    counts written into it as literals (``n_patients = 3``); the code itself is not prose."""
    parts: list[str] = []
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(_MAGIC.sub("", source)).readline))
    except (tokenize.TokenError, SyntaxError, ValueError):
        tokens = []
        parts += re.findall(r"#[^\n]*|'[^'\n]*'|\"[^\"\n]*\"", source)
    for token in tokens:
        if token.type == tokenize.COMMENT:
            parts.append(token.string.lstrip("#"))
        elif token.type in _STRINGS:
            parts.append(_STRING_QUOTES.sub("", token.string))
    parts += [f"{name} = {value}" for name, value in _LITERAL_ASSIGNMENT.findall(source)]
    return "\n".join(part.strip() for part in parts if any(c.isdigit() for c in part))
