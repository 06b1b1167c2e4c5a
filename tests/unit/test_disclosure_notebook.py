"""The notebook reader (readers/notebook.py): each output is a child item named by its cell and
output, every source and every text of an output is checked, and what a notebook keeps beside
an output (a plain-text companion, a Markdown cell) is released too, so checked too."""

from __future__ import annotations

from typing import Any

import pytest

from agoria_tre.disclosure.status import Status
from tests.unit.disclosure_support import check, figure, notebook_of, png, rules, stream


def test_notebook_outputs_are_children_pointing_at_cell_and_output() -> None:
    html = (
        "<table><thead><tr><th>drug</th><th>A</th><th>B</th></tr></thead>"
        "<tbody><tr><th>F</th><td>12</td><td>3</td></tr><tr><th>M</th><td>40</td>"
        "<td>50</td></tr></tbody></table>"
    )
    data = notebook_of(
        [
            {"cell_type": "markdown", "source": "# Results", "metadata": {}},
            {"cell_type": "code", "source": "x = 1", "outputs": [], "execution_count": 1},
            {
                "cell_type": "code",
                "source": "table",
                "execution_count": 2,
                "metadata": {"tags": []},
                "outputs": [
                    stream("done\n"),
                    {
                        "output_type": "execute_result",
                        "execution_count": 2,
                        "metadata": {},
                        "data": {
                            "text/html": html,
                            "text/plain": "...",
                            "application/vnd.jupyter.widget-view+json": {"model_id": "x"},
                        },
                    },
                ],
            },
        ]
    )
    item = check("analysis.ipynb", data)
    assert [child.path for child in item.children] == ["cell 3 / output 1", "cell 3 / output 2"]
    table = item.children[1].children[0]
    assert table.path == "cell 3 / output 2 / table 1"
    assert (rules(table)["threshold"].status, rules(table)["threshold"].cells) == (
        Status.FAIL,
        ((0, 1),),
    )
    assert any("widget-view" in note for note in item.notes)
    assert item.status is Status.FAIL


def test_every_text_of_a_notebook_is_scanned_including_code_and_markdown() -> None:
    data = notebook_of(
        [
            {"cell_type": "code", "source": "contact = 'jean.dupont@chu-lyon.fr'", "outputs": []},
            {"cell_type": "markdown", "source": "Patient NIR 1 84 12 76 451 089 46"},
        ]
    )
    found = rules(check("a.ipynb", data))
    assert found["identifier.email"].status is Status.FAIL
    assert "cell 1" in found["identifier.email"].summary
    assert found["identifier.nir"].status is Status.FAIL


@pytest.mark.parametrize(
    "cells",
    [
        [{"cell_type": "markdown", "source": "| sex | n |\n|---|---|\n| F | 3 |\n| M | 45 |\n"}],
        [{"cell_type": "markdown", "source": "Contact: jean.dupont&#64;chu-lyon.fr"}],
        [
            {
                "cell_type": "code",
                "source": "t",
                "outputs": [
                    {
                        "output_type": "execute_result",
                        "data": {
                            "text/html": "<b>counts</b>",
                            "text/plain": "    n   m\nF   3  50\nM  45  60",
                        },
                    }
                ],
            }
        ],
    ],
)
def test_notebook_sources_and_companions_are_checked(cells: list[dict[str, Any]]) -> None:
    assert check("n.ipynb", notebook_of(cells)).status is not Status.PASS


def test_model_summary_in_a_notebook_output() -> None:
    summary = (
        "                            OLS Regression Results\n"
        "Dep. Variable:     y     R-squared:   0.3\nNo. Observations:   12\nDf Residuals:    9\n"
    )
    data = notebook_of(
        [{"cell_type": "code", "source": "print(m.summary())", "outputs": [stream(summary)]}]
    )
    child = check("m.ipynb", data).children[0]
    assert rules(child)["model.dof"].status is Status.FAIL


def test_notebook_image_output_is_canonicalised_and_reviewed() -> None:
    plot = figure(png(text_chunk=True, trailing=b"SECRET"))
    data = notebook_of([{"cell_type": "code", "source": "plot()", "outputs": [plot]}])
    child = check("p.ipynb", data).children[0]
    assert rules(child)["image.unchecked"].status is Status.REVIEW
