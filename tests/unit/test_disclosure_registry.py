"""The rule registry: every rule declared once, the docs table generated from it, how rules
supersede each other applied as data; and the checker kept in modules of one job each."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from agoria_tre.disclosure.registry import FRAGMENTS, REGISTRY, RULES, markdown_table, resolve
from agoria_tre.disclosure.report import RuleResult, flagged, passed
from agoria_tre.disclosure.status import Status

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs" / "disclosure.md"
SOURCES = ROOT / "src" / "agoria_tre" / "disclosure"


def test_the_docs_rules_table_is_the_registrys() -> None:
    text = DOCS.read_text()
    match = re.search(r"<!-- rules: generated[^\n]*-->\n(.*?)<!-- rules: end -->", text, re.S)
    assert match is not None, "docs/disclosure.md lost its generated rules table"
    assert match.group(1) == markdown_table()


def test_each_rule_is_declared_once_with_known_fragments_and_supersessions() -> None:
    assert len({rule.id for rule in RULES}) == len(RULES)
    for rule in RULES:
        assert set(rule.applies_to) <= set(FRAGMENTS), rule.id
        assert set(rule.supersedes) <= set(REGISTRY), rule.id
        assert rule.description
        assert not rule.description.endswith(".")


def _rule_literals() -> set[str]:
    """Every string the sources pass as a rule id to ``flagged``/``passed``/``RuleResult``
    and the readers' refusals, and the ids ACRO's checks map to."""
    found: set[str] = set()
    for path in SOURCES.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and node.args:
                name = getattr(node.func, "id", getattr(node.func, "attr", ""))
                index = 2 if name == "_refused" else 0
                if (
                    name in ("flagged", "passed", "RuleResult", "_fail", "_refused")
                    and len(node.args) > index
                ):
                    arg = node.args[index]
                    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                        found.add(arg.value)
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and re.fullmatch(r"acro\.[a-z_.]+", node.value)
            ):
                found.add(node.value)
    return found


def test_every_rule_the_sources_name_is_declared() -> None:
    literals = _rule_literals()
    assert len(literals) > 30  # the walk found the checker's calls
    assert literals <= set(REGISTRY), literals - set(REGISTRY)


def test_a_result_of_an_undeclared_rule_cannot_be_built() -> None:
    with pytest.raises(ValueError, match="not a rule of the registry"):
        RuleResult("statistic.made_up", Status.FAIL, "x")


def test_a_failing_extreme_supersedes_the_quantile_and_the_listing() -> None:
    extreme = flagged("statistic.extremes", Status.FAIL, "a maximum")
    quantile = flagged("statistic.quantiles", Status.REVIEW, "a quantile")
    listing = flagged("row_level", Status.FAIL, "values listed")
    other = flagged("threshold", Status.FAIL, "a small count")
    assert resolve([quantile, extreme, listing, other]) == [extreme, other]
    passing = passed("statistic.extremes", "no extreme")
    assert resolve([quantile, passing]) == [quantile, passing]


def test_no_module_of_the_checker_is_over_800_lines() -> None:
    sizes = {
        str(path.relative_to(SOURCES)): len(path.read_text().splitlines())
        for path in SOURCES.rglob("*.py")
    }
    assert len(sizes) > 20
    assert {name: n for name, n in sizes.items() if n > 800} == {}
