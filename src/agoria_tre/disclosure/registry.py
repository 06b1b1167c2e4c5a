"""Every rule of the checker, declared once.

A rule has an id (what reports and reviewers see), the kinds of fragments it applies to,
the policy key that sets its status or its number (None: its status is fixed), one line
saying what it checks, and the rules it supersedes: when it does not pass on an item, the
results of those rules on the same item are dropped (:func:`resolve`), so that a reviewer
reads the stronger finding once ("a maximum" rather than "a maximum" and "a quantile").

The rules table of ``docs/disclosure.md`` is :func:`markdown_table`'s output, kept equal by
a test; a result whose rule is not declared here cannot be built
(:class:`~agoria_tre.disclosure.report.RuleResult` refuses it).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

FRAGMENTS = ("file", "table", "model", "survival", "image", "prose", "code", "acro")


@dataclass(frozen=True)
class Rule:
    id: str
    applies_to: tuple[str, ...]
    policy: str | None  # the policy key that sets its status or number
    description: str
    supersedes: tuple[str, ...] = ()


def _rule(
    id: str, applies_to: str, policy: str | None, description: str, supersedes: str = ""
) -> Rule:
    return Rule(id, tuple(applies_to.split()), policy, description, tuple(supersedes.split()))


RULES: tuple[Rule, ...] = (
    # --- reading the file ------------------------------------------------------------------
    _rule("file.type", "file", None, "the file's kind is allowed and its content agrees with its name; pages hold no active or fetched content"),  # noqa: E501
    _rule("file.path", "file", None, "the file's path is within the folder checked"),
    _rule("file.limits", "file", "limits", "the file and what it holds are within the policy's limits; what a limit left unread is named, never passed"),  # noqa: E501
    _rule("file.unreadable", "file", None, "the file, or a folder, could be read; an internal error is logged and reported here"),  # noqa: E501
    # --- direct identifiers ----------------------------------------------------------------
    _rule("identifiers", "table prose code", None, "no direct identifier, birth date or pseudonym was found"),  # noqa: E501
    _rule("identifier.nir", "table prose code", None, "a French social security number whose key checks, or a key-less one named as such"),  # noqa: E501
    _rule("identifier.email", "table prose code", None, "an e-mail address"),
    _rule("identifier.phone", "table prose code", None, "a French phone number"),
    _rule("identifier.date", "table prose code", None, "a full date naming a birth, or beside a pseudonym"),  # noqa: E501
    _rule("identifier.pseudonym", "table prose code", None, "a project pseudonym, or a value shaped like the platform's pseudonyms"),  # noqa: E501
    _rule("row_level", "table code", None, "a table of individual records, or a column's values listed"),  # noqa: E501
    # --- tables of counts ------------------------------------------------------------------
    _rule("table.assumed_frequency", "table", None, "no header names a measure: whole numbers are read as counts of units"),  # noqa: E501
    _rule("table.values", "table", None, "the table holds numbers the checker can read"),
    _rule("table.unparsed", "table", None, "counts written in a form the checker cannot read"),
    _rule("table.structure", "table", None, "merged or ragged cells cannot be checked cell by cell"),  # noqa: E501
    _rule("threshold", "table survival image", "threshold", "every count of units shown is 0 or at least the threshold"),  # noqa: E501
    _rule("threshold.labels", "table", "threshold", "a count written in a label or header ('Women (n=7)')"),  # noqa: E501
    _rule("threshold.text", "code", "threshold", "a count under the threshold that notebook code printed"),  # noqa: E501
    _rule("zeros", "table", "zeros", "a zero cell says something about everyone in its group"),
    _rule("class_disclosure", "table", "class_disclosure", "a row or column whose units all fall in one cell"),  # noqa: E501
    _rule("suppression.markers", "table", "threshold", "a '<N' marker hides every count from 1 to threshold - 1"),  # noqa: E501
    _rule("secondary_suppression", "table", "threshold", "a hidden cell cannot be recomputed to within the threshold from the margins or another table of the request"),  # noqa: E501
    _rule("differencing", "table", "threshold", "two tables of the request or released do not differ by a small group"),  # noqa: E501
    _rule("percent.denominator", "table", None, "percentages shown without the counts they are shares of"),  # noqa: E501
    # --- magnitudes and statistics ---------------------------------------------------------
    _rule("magnitude.evidence", "table", None, "sums, and means in euros, days or milligrams, need evidence of their contributors"),  # noqa: E501
    _rule("dominance", "table", "dominance", "the largest n contributors make less than k of a cell's total"),  # noqa: E501
    _rule("p_percent", "table", "p_percent", "the others hide the largest contribution by at least p"),  # noqa: E501
    _rule("negative_values", "table", "negative_values", "negative contributions, which dominance rules do not cover"),  # noqa: E501
    _rule("missing_values", "table", "missing_values", "missing values, which hide denominators"),
    _rule("statistic.units", "table", "threshold", "a statistic rests on a count of units the table shows"),  # noqa: E501
    _rule("statistic.quantiles", "table code", None, "a median or quantile over a number of units not shown"),  # noqa: E501
    _rule("statistic.extremes", "table code", None, "a minimum or maximum, or the first values after a sort: one unit's value", "statistic.quantiles row_level"),  # noqa: E501
    _rule("statistic.implied_count", "table", "threshold", "a sum beside a mean of the same cells publishes their count"),  # noqa: E501
    _rule("histogram.edges", "image table", None, "a histogram's outer edges are the data's extremes unless bounded"),  # noqa: E501
    # --- models and survival ---------------------------------------------------------------
    _rule("model.dof", "model", "min_dof", "a model's residual degrees of freedom are at least the minimum"),  # noqa: E501
    _rule("model.units", "table", "threshold", "a model's figures rest on a count of units the table shows"),  # noqa: E501
    _rule("survival.at_risk", "survival", "threshold", "the units at risk at each step are 0 or at least the threshold"),  # noqa: E501
    _rule("survival.events", "survival", "threshold", "the events at each step are 0 or at least the threshold"),  # noqa: E501
    # --- evidence sidecars -----------------------------------------------------------------
    _rule("evidence.consistency", "table model survival image", None, "the researcher's evidence agrees with the output"),  # noqa: E501
    _rule("evidence.statistic", "table", None, "proportions cannot be cross-checked against unit counts"),  # noqa: E501
    # --- prose and images ------------------------------------------------------------------
    _rule("prose.hints", "prose code", None, "small counts beside unit words, extremes, quantiles and ages in prose, as spans for the reviewers"),  # noqa: E501
    _rule("image.unchecked", "image", None, "a plot without its data cannot be checked automatically"),  # noqa: E501
    _rule("image.unreadable", "image", None, "the image could be decoded and re-encoded"),
    # --- ACRO folders: ACRO's own records --------------------------------------------------
    _rule("acro.checksum", "acro", None, "the bytes checked are those ACRO recorded"),
    _rule("acro.threshold", "acro", "threshold", "ACRO's threshold check"),
    _rule("acro.dominance", "acro", "dominance", "ACRO's (n, k) check"),
    _rule("acro.p_percent", "acro", "p_percent", "ACRO's p-ratio check"),
    _rule("acro.model.dof", "acro", "min_dof", "ACRO's residual degrees of freedom check"),
    _rule("acro.zeros", "acro", "zeros", "ACRO's zero-cell check"),
    _rule("acro.all_same_values", "acro", None, "ACRO's all-values-the-same check"),
    _rule("acro.missing_values", "acro", "missing_values", "ACRO's missing-values check"),
    _rule("acro.negative_values", "acro", "negative_values", "ACRO's negative-values check"),
    _rule("acro.differencing", "acro", None, "ACRO's linked-tables check"),
    _rule("acro.manual_check", "acro", None, "an output ACRO leaves to a person"),
    _rule("acro.not_for_release", "acro", None, "an output ACRO recorded as failing or not for release"),  # noqa: E501
    _rule("acro.other", "acro", None, "a check ACRO recorded that the checker does not know"),
)  # fmt: skip
REGISTRY: dict[str, Rule] = {rule.id: rule for rule in RULES}


class _Result(Protocol):
    @property
    def rule(self) -> str: ...

    @property
    def status(self) -> Any: ...


R = TypeVar("R", bound=_Result)


def resolve(results: Sequence[R]) -> list[R]:
    """``results`` without those a failing or reviewed result supersedes (see the module
    docstring); order kept."""
    dropped = {
        superseded
        for result in results
        if result.status.value != "pass"
        for superseded in REGISTRY[result.rule].supersedes
    }
    return [r for r in results if r.rule not in dropped]


def markdown_table(rules: Iterable[Rule] = RULES) -> str:
    """The rules table of ``docs/disclosure.md``."""
    lines = [
        "| rule | applies to | set by the policy | what it checks | supersedes |",
        "|---|---|---|---|---|",
    ]
    for rule in rules:
        policy = f"`{rule.policy}`" if rule.policy else ""
        supersedes = ", ".join(f"`{s}`" for s in rule.supersedes)
        lines.append(
            f"| `{rule.id}` | {', '.join(rule.applies_to)} | {policy} | {rule.description}"
            f" | {supersedes} |"
        )
    return "\n".join(lines) + "\n"
