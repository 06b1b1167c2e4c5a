"""The HTML reader: a page or a fragment read as a browser reads it (lxml, libxml2's HTML5
tokenizer), its tables as grids, the rest of its text as text, and nothing that runs or
fetches."""

from __future__ import annotations

from dataclasses import replace

import lxml.etree
import pandas as pd
import pytest

from agoria_tre.disclosure.checker import check_bytes
from agoria_tre.disclosure.readers.html import MalformedHtml, grid_of, read_html
from agoria_tre.disclosure.report import ItemReport
from agoria_tre.disclosure.status import Status
from tests.unit.disclosure_support import FR, check, found, notebook_of, rules


def _cells(item: ItemReport, rule: str) -> tuple[Status, tuple[tuple[int, int], ...]]:
    [table] = item.children
    [result] = [r for r in table.rules if r.rule == rule]
    return result.status, result.cells


def test_the_parser_is_libxml2s_html5_tokenizer() -> None:
    """Older libxml2 tokenizes HTML 4: comments, raw text and character references end
    elsewhere than in a browser."""
    assert lxml.etree.LIBXML_VERSION >= (2, 14)


# Markup a browser repairs; each page shows the same table: drug A with 30 and 40, drug B
# with 3 and 50 (a small count, at row 1, column 0 of the data).
REPAIRED = {
    "rows and cells left open": (
        "<table><tr><th>drug<th>F<th>M<tr><th>A<td>30<td>40<tr><th>B<td>3<td>50</table>"
    ),
    "upper-case tags and unquoted attributes": (
        "<TABLE border=1><TR><TH>drug</TH><TH>F</TH><TH>M</TH></TR><TR><TH>A</TH><TD>30</TD>"
        "<TD>40</TD></TR><TR><TH>B</TH><TD>3</TD><TD>50</TD></TR></TABLE>"
    ),
    "a comment closed the HTML5 way": (
        "<table><tr><th>drug</th><th>F</th><th>M</th></tr><!-- note --!>"
        "<tr><th>A</th><td>30</td><td>40</td></tr><tr><th>B</th><td>3</td><td>50</td></tr>"
        "</table>"
    ),
    "character references for the digits": (
        "<table><tr><th>drug</th><th>F</th><th>M</th></tr><tr><th>A</th><td>&#51;0</td>"
        "<td>4&#x30;</td></tr><tr><th>B</th><td>&#x33;</td><td>50</td></tr></table>"
    ),
    "a table never closed, after misnested text": (
        "<p><b>Cases by drug</p></b><table><thead><tr><th>drug</th><th>F</th><th>M</th></tr>"
        "<tbody><tr><th>A</th><td>30</td><td>40</td><tr><th>B</th><td>3</td><td>50</td>"
    ),
    "a greater-than sign in a cell and a stray less-than in the text": (
        "<p>n < 5 were hidden</p><table><tr><th>drug</th><th>F</th><th>M</th></tr>"
        "<tr><th>A</th><td>30</td><td>40</td></tr><tr><th>B</th><td>3</td><td>50</td></tr>"
        "</table>"
    ),
}


@pytest.mark.parametrize("case", list(REPAIRED))
def test_a_table_is_read_as_a_browser_repairs_it(case: str) -> None:
    item = check("t.html", REPAIRED[case])
    assert _cells(item, "threshold") == (Status.FAIL, ((1, 0),))


def test_pandas_and_its_styler_pages_are_read_as_tables() -> None:
    frame = pd.DataFrame({"F": [30, 35], "M": [40, 50]}, index=pd.Index(["A", "B"], name="drug"))
    small = frame.replace(35, 3)
    for shown in (frame, small):
        for page in (shown.to_html(), shown.style.highlight_max(color="yellow").to_html()):
            item = check("t.html", page)
            if shown is frame:
                assert item.status is Status.PASS, [(r.rule, r.summary) for r in item.rules]
            else:
                assert _cells(item, "threshold") == (Status.FAIL, ((1, 0),))


def test_merged_body_cells_are_reviewed_not_guessed() -> None:
    merged = (
        "<table><tr><th>site</th><th>cases</th></tr><tr><td colspan='2'>Lyon 3</td></tr>"
        "<tr><td>Nice</td><td>40</td></tr></table>"
    )
    for item in (_html_output(merged), check("cases.md", merged), check("cases.html", merged)):
        assert item.status is Status.REVIEW
        [table] = item.children
        assert table.path.endswith("table 1")
        assert "merged" in rules(table)["table.structure"].summary


def test_multiindex_header_spans_are_expanded() -> None:
    frame = pd.DataFrame(
        [[12, 30, 15, 40]],
        index=pd.Index(["F"], name="sex"),
        columns=pd.MultiIndex.from_product([["2025", "2026"], ["A", "B"]]),
    )
    [table] = _html_output(frame.to_html()).children
    assert rules(table)["threshold"].status is Status.PASS
    assert table.path == "cell 1 / output 1 / table 1"


ACTIVE = {
    "a script": "<script>fetch('x')</script>",
    "a script in upper case after a comment": "<!-- x --><SCRIPT >fetch('x')</SCRIPT>",
    "an image": "<img src=x.png>",
    "an SVG": "<svg><circle r=3></circle></svg>",
    "a frame": "<iframe srcdoc='<p>3</p>'></iframe>",
    "a refresh": "<meta http-equiv=refresh content='0;url=x'>",
    "a style sheet fetched": "<link rel=stylesheet href=x.css>",
    "an event handler": "<p onclick='x()'>counts</p>",
    "an event handler in mixed case": "<p OnMouseOver='x()'>counts</p>",
    "a link running code": "<a href='java\tscript:x()'>counts</a>",
    "a link carrying a document": "<a href='data:text/html,<p>3</p>'>counts</a>",
    "a cell background fetched": "<table><tr><td background='x.png'>30</td></tr></table>",
    "a style attribute fetching": "<p style='background: url(x.png)'>counts</p>",
    "a style sheet importing": "<style>@import 'x.css';</style>",
    "a form": "<form action=x><p>counts</p></form>",
}


@pytest.mark.parametrize("case", list(ACTIVE))
def test_a_page_that_runs_or_fetches_is_refused_naming_what(case: str) -> None:
    item = check("t.html", ACTIVE[case])
    [result] = [r for r in item.rules if r.rule == "file.type"]
    assert result.status is Status.FAIL
    assert "active or fetched content (" in result.summary


@pytest.mark.parametrize(
    "text",
    [
        "<p>Time from onset = 12 days on average; see url (appendix).</p>",
        "<p>The javascript: scheme is never used.</p>",
        "<p>See <a href='https://example.org/methods'>the methods</a>.</p>",
    ],
)
def test_words_that_look_like_markup_are_text(text: str) -> None:
    item = check("t.html", text)
    assert found(item).get("file.type", Status.PASS) is Status.PASS


def test_text_outside_the_tables_and_in_comments_is_checked_as_text() -> None:
    table = "<table><tr><th>drug</th><th>n</th></tr><tr><td>A</td><td>30</td></tr></table>"
    item = check("t.html", f"<p>Of the 40 patients, 3 patients died.</p>{table}")
    assert found(item)["prose.hints"] is Status.REVIEW
    item = check("t.html", f"{table}<!-- contact: jean.dupont@chu-lyon.fr -->")
    assert found(item)["identifier.email"] is Status.FAIL
    item = check("t.html", f"<p title='jean.dupont@chu-lyon.fr'>Cases</p>{table}")
    assert found(item)["identifier.email"] is Status.FAIL


def test_an_identifier_split_by_markup_is_found() -> None:
    item = check("t.html", "<p>jean.dupont<span></span>@chu-lyon.fr</p>")
    assert found(item)["identifier.email"] is Status.FAIL


def test_a_table_nested_in_a_cell_is_reviewed_and_its_text_still_scanned() -> None:
    page = (
        "<table><tr><th>site</th><th>cases</th></tr><tr><td>Lyon</td><td>"
        "<table><tr><td>jean.dupont@chu-lyon.fr</td></tr></table></td></tr></table>"
    )
    item = check("t.html", page)
    [unread] = item.children
    assert [(r.rule, r.status) for r in unread.rules] == [("table.structure", Status.REVIEW)]
    assert "nested" in unread.rules[0].summary
    assert found(item)["identifier.email"] is Status.FAIL


def test_markup_nested_past_the_parsers_depth_fails_unread() -> None:
    page = "<div>" * 300 + "<table><tr><th>n</th></tr><tr><td>3</td></tr></table>"
    with pytest.raises(MalformedHtml, match="not read to its end"):
        read_html(page, max_cells=1000, max_rows=100)
    item = check("t.html", page)
    assert [(r.rule, r.status) for r in item.rules] == [("file.unreadable", Status.FAIL)]


def test_a_table_over_the_cell_limit_is_not_read_cell_by_cell() -> None:
    rows = "".join(f"<tr><td>{k}</td><td>{k + 40}</td></tr>" for k in range(30))
    page = read_html(f"<table>{rows}</table><table>{rows}</table>", max_cells=80, max_rows=100)
    assert [t.too_large for t in page.tables] == ["", "more than 80 cells"]


@pytest.mark.parametrize(
    ("head", "refused"),
    [
        ("", False),  # 30 rows of data
        ("<tr><th>k</th><th>n</th></tr>", False),  # a first row of headings in the body
        ("<thead><tr><th>k</th></tr><tr><th>n</th></tr></thead>", False),  # a thead's rows
        ("<tr><td>x</td><td>1</td></tr><tr><td>y</td><td>2</td></tr>", True),  # 32 rows
    ],
)
def test_a_table_over_the_row_limit_ends_the_reading(head: str, refused: bool) -> None:
    rows = "".join(f"<tr><td>{k}</td><td>{k + 40}</td></tr>" for k in range(30))
    page = read_html(
        f"<table>{head}{rows}</table><p>after</p><script></script>", max_cells=1000, max_rows=30
    )
    if refused:
        assert [t.too_large for t in page.tables] == ["more than 30 rows"]
        assert (page.active, "after" in page.text) == (None, False)  # nothing read after it
    else:
        assert [t.too_large for t in page.tables] == [""]
        assert page.active == "<script>"


@pytest.mark.parametrize(
    ("row", "rows", "reason"),
    [
        ("<tr><td>41</td></tr>", 100_002, "more than 100,000 rows"),
        ("<tr><td>r</td><td>41</td><td>52</td></tr>", 70_000, "more than 200,000 cells"),
    ],
)
def test_a_page_with_a_table_over_the_limits_fails_on_it(row: str, rows: int, reason: str) -> None:
    """An HTML page holds at most ``max_html_cells`` cells (a larger table is released as
    CSV) and a table at most ``max_rows`` rows."""
    item = check("big.html", f"<table><tr><th>n</th></tr>{row * rows}</table>")
    assert item.status is Status.FAIL
    [table] = item.children
    assert [(r.rule, r.summary) for r in table.rules] == [
        ("file.limits", f"big.html / table 1 has {reason}: a table this large is released as CSV")
    ]


@pytest.mark.parametrize(
    ("page", "shown"),
    [
        # a caption's inline markup, and text a browser shows before the table
        ("<table><caption>Deaths: <b>3</b></caption>x<tr><td>1</td></tr></table>", "Deaths: 3 x"),
        ("<table><tbody><div>Deaths: 3</div><tr><td>1</td></tr></tbody></table>", "Deaths: 3"),
        ("<table><tr><span>Deaths: 3</span><td>1</td></tr></table>", "Deaths: 3"),
        ("<table><tr><td>1</td></tr><!-- Deaths: 3 --></table>", "Deaths: 3"),
        ("<table><tr><td>1</td><style>td {}</style></tr></table>", ""),
    ],
)
def test_what_a_table_shows_outside_its_cells_is_the_pages_text(page: str, shown: str) -> None:
    read = read_html(page, max_cells=100, max_rows=100)
    assert " ".join(read.text.split()) == shown
    assert [table.body_rows for table in read.tables] == [[["1"]]]


@pytest.mark.parametrize(
    ("cell", "text"),
    [
        ("<td> 12 </td>", "12"),
        ("<td>1\u202f234</td>", "1 234"),  # any whitespace is one space
        ("<td>Décès</td>", "Décès"),  # read as UTF-8, whatever the page declares
        ("<td>a\n  b\tc</td>", "a b c"),
        ("<td><b>12</b> (<i>40 %</i>)</td>", "12 (40 %)"),
    ],
)
def test_a_cells_text_is_its_words_one_space_apart(cell: str, text: str) -> None:
    read = read_html(f"<table><tr>{cell}</tr></table>", max_cells=100, max_rows=100)
    assert read.tables[0].body_rows == [[text]]


def test_a_cell_outside_any_table_holding_one_is_a_nested_table() -> None:
    page = read_html("<td>5<table><tr><td>1</td></tr></table></td>", max_cells=100, max_rows=100)
    assert (page.tables, page.unread) == ([], "a table is nested inside another's cell")


def test_an_empty_page_and_text_without_markup() -> None:
    assert read_html("", max_cells=10, max_rows=100).tables == []
    assert read_html(" \n", max_cells=10, max_rows=100).text == ""
    page = read_html("Cases: 40", max_cells=10, max_rows=100)
    assert (page.tables, page.text.strip(), page.active) == ([], "Cases: 40", None)


def test_a_caption_is_the_pages_text_and_cells_are_the_tables() -> None:
    page = read_html(
        "<table><caption>Cases 2025</caption><tr><th>drug</th><th>n</th></tr>"
        "<tr><td>A</td><td>30</td></tr></table>",
        max_cells=100,
        max_rows=100,
    )
    assert page.text.split() == ["Cases", "2025"]
    [table] = page.tables
    assert (table.header_rows, table.body_rows) == ([["drug", "n"]], [["A", "30"]])


@pytest.mark.parametrize(
    "page",
    [
        "<!-- contact: jean.dupont@chu-lyon.fr -->",
        "<!-- contact: jean.dupont@chu-lyon.fr --><p>Cases by drug</p>",
        "<p>Cases by drug</p></html><!-- contact: jean.dupont@chu-lyon.fr -->",
    ],
)
def test_a_comment_around_the_document_is_checked_as_text(page: str) -> None:
    assert found(check("t.html", page))["identifier.email"] is Status.FAIL


def test_header_spans_are_expanded_and_body_spans_reported() -> None:
    page = read_html(
        "<table><thead><tr><th></th><th colspan=2>2025</th></tr><!-- x -->"
        "<tr><th>drug</th><th>F</th><th>M</th></tr></thead><tbody>"
        "<tr><th rowspan=2>A</th><td>30</td><!-- y --><td>40</td></tr>"
        "<tr><td>35</td><td colspan=x>45</td></tr></tbody></table>"
        "<table><tr><td>site</td><td>cases</td></tr><tr><td colspan=2>Lyon 3</td></tr></table>",
        max_cells=100,
        max_rows=100,
    )
    spanned, merged = page.tables
    assert spanned.header_rows == [["", "2025", "2025"], ["drug", "F", "M"]]
    assert spanned.body_rows == [["A", "30", "40"], ["A", "35", "45"]]
    assert (spanned.label_columns, spanned.merged_body_cells) == (1, False)
    assert merged.merged_body_cells


def test_a_label_spanning_three_rows_a_header_alone_and_ragged_rows() -> None:
    spanned, header_only, ragged = read_html(
        "<table><tr><th rowspan=3>A</th><td>30</td></tr><tr><td>35</td></tr>"
        "<tr><td>45</td></tr></table>"
        "<table><tr><th>drug</th><th>n</th></tr></table>"
        "<table><tr><td>A</td><td>30</td></tr><tr><td>B</td></tr></table>",
        max_cells=100,
        max_rows=100,
    ).tables
    assert spanned.body_rows == [["A", "30"], ["A", "35"], ["A", "45"]]
    assert (header_only.header_rows, header_only.body_rows) == ([["drug", "n"]], [])
    assert grid_of(header_only) is None
    assert grid_of(ragged) is None


def _html_output(html: str, plain: str = "") -> ItemReport:
    data = {"text/html": html} | ({"text/plain": plain} if plain else {})
    output = {"output_type": "execute_result", "metadata": {}, "data": data}
    cell = {"cell_type": "code", "source": "t", "outputs": [output]}
    [item] = check("n.ipynb", notebook_of([cell])).children
    return item


def test_a_notebooks_html_output_is_a_page() -> None:
    """Refused when it runs or fetches; its caption is prose, its tables are tables and its
    plain-text companion is checked with it."""
    table = "<table><tr><th>drug</th><th>n</th></tr><tr><td>A</td><td>30</td></tr></table>"
    scripted = _html_output(f"{table}<script>fetch('x')</script>")
    assert [(r.rule, r.status) for r in scripted.rules] == [("file.type", Status.FAIL)]
    captioned = _html_output(f"<p>3 patients died.</p>{table}", plain="drug n\nA 30")
    assert found(captioned)["prose.hints"] is Status.REVIEW
    assert found(captioned)["threshold"] is Status.PASS
    deep = _html_output("<div>" * 300 + table)
    assert [(r.rule, r.status) for r in deep.rules] == [("file.unreadable", Status.FAIL)]
    mailed = _html_output(table, plain="contact jean.dupont@chu-lyon.fr")
    assert found(mailed)["identifier.email"] is Status.FAIL


def test_the_html_outputs_of_a_notebook_share_one_cell_limit() -> None:
    rows = "".join(f"<tr><td>r{k}</td><td>{k + 40}</td></tr>" for k in range(30))
    output = {
        "output_type": "execute_result",
        "metadata": {},
        "data": {"text/html": f"<table><tr><th>g</th><th>n</th></tr>{rows}</table>"},
    }
    cells = [{"cell_type": "code", "source": "t", "outputs": [output]} for _ in range(2)]
    policy = FR.policy
    small = replace(FR, policy=replace(policy, limits=replace(policy.limits, max_html_cells=100)))
    first, second = check_bytes("n.ipynb", notebook_of(cells), small).report.children
    assert first.status is Status.PASS
    [table] = second.children
    assert [(r.rule, r.summary) for r in table.rules] == [
        (
            "file.limits",
            f"{second.path} / table 1 has more than 100 cells with the tables read before it:"
            " a table this large is released as CSV",
        )
    ]
