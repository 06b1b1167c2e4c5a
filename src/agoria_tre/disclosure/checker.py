"""The checker: from untrusted files to one report.

Each file is sniffed (by content, not only its name), rewritten into its canonical form, and
only that form is checked; the report records the canonical form's SHA-256. Evidence
sidecars beside tables feed the check and are never items of their own.
"""

from __future__ import annotations

import gc
import json
import logging
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import lxml.etree

from agoria_tre.disclosure import evidence as ev
from agoria_tre.disclosure import files
from agoria_tre.disclosure.context import Checked, Context, content_hash
from agoria_tre.disclosure.forms import decode_text, decoded_forms, variants
from agoria_tre.disclosure.prose import prose_rule
from agoria_tre.disclosure.readers.acro import (
    BOOKKEEPING,
    AcroOutput,
    is_acro_folder,
    read_acro_folder,
)
from agoria_tre.disclosure.readers.code import prose as code_prose
from agoria_tre.disclosure.readers.image import canonical_image
from agoria_tre.disclosure.readers.notebook import Output, load_json, read_notebook
from agoria_tre.disclosure.readers.printouts import find_json_tables, longest_list
from agoria_tre.disclosure.readers.table import TABLE_SUFFIXES, Table, parse_csv
from agoria_tre.disclosure.report import ItemReport, Report, RuleResult, flagged, passed, walk
from agoria_tre.disclosure.rules.code import code_output_rules
from agoria_tre.disclosure.rules.differencing import check_all_differencing, magnitude_differencing
from agoria_tre.disclosure.rules.identifiers import scan_text
from agoria_tre.disclosure.rules.secondary import across
from agoria_tre.disclosure.status import Status
from agoria_tre.disclosure.tablecheck import (
    check_table,
    inconsistent,
    labels_as_statistics,
    model_evidence,
    plot_evidence,
)
from agoria_tre.disclosure.textcheck import (
    FoundTable,
    check_text,
    html_checked,
    html_page,
    json_prose,
    json_strings,
    tables_checked,
    text_tables,
)

__all__ = ["Checked", "Context", "check_bytes", "check_paths"]

log = logging.getLogger(__name__)

TEXT_SUFFIXES = (".txt", ".md", ".log", ".json", ".tex")
HTML_SUFFIXES = (".html", ".htm")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
NOTEBOOK_SUFFIXES = (".ipynb",)


def _kind_of(name: str) -> str:
    """The kind a file claims by its name. Each reader then checks the content agrees:
    a PNG named ``.csv`` is refused as a table, not quietly accepted as an image."""
    lower = name.lower()
    if lower.endswith(IMAGE_SUFFIXES) or lower.endswith(".svg"):
        return "image"
    if lower.endswith(TABLE_SUFFIXES):
        return "table"
    if lower.endswith(NOTEBOOK_SUFFIXES):
        return "notebook"
    if lower.endswith(TEXT_SUFFIXES):
        return "text"
    if lower.endswith(HTML_SUFFIXES):
        return "html"
    return "other"


MAX_TABLES_COMPARED = 400  # differencing compares every pair


def _check_output(
    output: Output, ctx: Context, tables_found: list[tuple[ItemReport, Table]]
) -> ItemReport:
    where = output.where
    item = ItemReport(path=where, kind=output.mime)
    if output.mime.startswith("image/"):
        item.sha256 = content_hash(output.image)
        item.rules.append(
            output.failure
            or flagged(
                "image.unchecked", Status.REVIEW, "a plot cannot be checked automatically: read it"
            )
        )
        if output.text:
            item.rules += check_text(output.text, ctx, where=where)
        return item
    text = output.text or ""
    item.sha256 = content_hash(text.encode())
    if output.html:  # the plain-text companion kept beside HTML is released too
        before = sum(table.shape[0] * table.shape[1] for _, table in tables_found)
        page = html_page(output.html, ctx, where=where, read_before=before)
        if isinstance(page, RuleResult):
            item.rules.append(page)
            return item
        item.rules, item.children = html_checked(
            page, output.html, ctx, where=where, also=output.plain, collect=tables_found
        )
        item.children += text_tables(output.plain, ctx, where=f"{where} (text/plain)")
        return item
    item.rules += check_text(text, ctx, where=where)
    if output.mime == "application/json" and output.primary:
        try:
            parsed = json.loads(output.primary)
        except (ValueError, RecursionError):
            parsed = None
        found = [FoundTable(grid) for grid in find_json_tables(parsed)]
        item.children += tables_checked(found, ctx, where=where, collect=tables_found)
    else:
        item.children += text_tables(text, ctx, where=where, collect=tables_found)
    return item


#: Allocations between two collections of the youngest generation while checking (Python's
#: default is 700). A table of 500,000 cells allocates millions of small lists and strings,
#: none of them in a cycle: collecting after every 700 spent 1 to 2 s of a 5 s check
#: walking objects that reference counting frees anyway.
GC_THRESHOLD = 100_000


@contextmanager
def _few_collections() -> Iterator[None]:
    """Collect cycles rarely while checking; the thresholds are restored after."""
    before = gc.get_threshold()
    gc.set_threshold(max(before[0], GC_THRESHOLD), *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)


def check_bytes(name: str, data: bytes, ctx: Context, *, evidence: bytes | None = None) -> Checked:
    """Check one file's content. Never raises on bad input: refusals are failing rules.

    Every reader validates what it reads; should one still trip on an input nobody foresaw,
    the item fails ("the checker could not read it") instead of the whole check crashing.
    """
    try:
        with _few_collections():
            return _check_bytes(name, data, ctx, evidence=evidence)
    except (
        ValueError,
        TypeError,
        KeyError,
        IndexError,
        AttributeError,
        AssertionError,
        ArithmeticError,
        RecursionError,
        UnicodeError,
        MemoryError,
        lxml.etree.LxmlError,
    ) as exc:
        log.exception("internal error checking %r: reported as file.unreadable", name)
        summary = f"the checker could not read this file ({type(exc).__name__}): not released"
        return Checked(
            ItemReport(name, _kind_of(name), [flagged("file.unreadable", Status.FAIL, summary)]),
            None,
        )


def _check_bytes(name: str, data: bytes, ctx: Context, *, evidence: bytes | None) -> Checked:
    kind = _kind_of(name)
    limits = ctx.policy.limits
    if len(data) > limits.max_bytes:
        return Checked(
            ItemReport(
                name,
                kind,
                [
                    flagged(
                        "file.limits",
                        Status.FAIL,
                        f"the file has {len(data):,} bytes, over the limit of {limits.max_bytes:,}",
                    )
                ],
            ),
            None,
        )
    if kind == "image":
        image = canonical_image(data, limits, name=name)
        item = ItemReport(
            name,
            "image",
            sha256=content_hash(image.canonical),
            notes=[f"removed: {what}" for what in image.removed],
        )
        item.rules.append(
            image.failure
            or flagged(
                "image.unchecked", Status.REVIEW, "a plot cannot be checked automatically: read it"
            )
        )
        if evidence is not None and image.failure is None:
            item.rules += plot_evidence(evidence, ctx.policy, where=name)
        return Checked(item, image.canonical)
    if kind == "table":
        parsed_evidence: ev.Evidence | None = None
        notes: list[str] = []
        if evidence is not None:
            try:
                parsed_evidence = ev.parse_evidence(evidence)
            except ev.EvidenceError as exc:
                rule = flagged(
                    "evidence.consistency",
                    Status.FAIL,
                    f"the evidence sidecar is unusable: {exc}",
                    asserted=True,
                )
                return Checked(ItemReport(name, "table", [rule]), None)
            notes.append("checked against the researcher's evidence sidecar")
        table = parse_csv(
            data,
            limits,
            name=name,
            label_columns=parsed_evidence.label_columns if parsed_evidence else None,
        )
        if isinstance(table, RuleResult):
            return Checked(ItemReport(name, "table", [table]), None)
        canonical = table.canonical_csv()
        rules = check_table(table, ctx, where=name, evidence=parsed_evidence)
        if parsed_evidence is None:  # a sidecar says what the labels are
            rules += labels_as_statistics(table, name)
        counts = parsed_evidence is None or parsed_evidence.kind == "frequency"
        magnitude = parsed_evidence is not None and parsed_evidence.kind == "magnitude"
        return Checked(
            ItemReport(
                name,
                "table",
                rules,
                sha256=content_hash(canonical),
                notes=[*table.notes, *notes],
                labels=len(table.label_names),
            ),
            canonical,
            table if counts else None,
            magnitude=(table, parsed_evidence) if magnitude and parsed_evidence else None,
        )
    if kind == "notebook":
        notebook = read_notebook(data, limits)
        if isinstance(notebook, RuleResult):
            return Checked(ItemReport(name, "notebook", [notebook]), None)
        item = ItemReport(
            name,
            "notebook",
            sha256=content_hash(notebook.canonical),
            notes=[f"dropped: {d}" for d in notebook.dropped[:20]],
        )
        source_tables: list[ItemReport] = []
        for number, cell_type, source in notebook.sources:
            where = f"cell {number} ({cell_type})"
            scanned = source + "\n" + decoded_forms(source) + "\n" + variants(source)
            item.rules += scan_text(scanned, where=where, pseudonyms=ctx.pseudonyms)
            if cell_type != "code":  # a Markdown cell can hold a table as well as an output
                source_tables += text_tables(source, ctx, where=where)
                item.rules.append(prose_rule(source, ctx.policy, where=where))
            else:  # comments and strings are prose
                prose = code_prose(source)
                if prose:
                    item.rules.append(prose_rule(prose, ctx.policy, where=where))
        if not item.rules:
            item.rules.append(passed("identifiers", "no identifier in the cells' sources"))
        inner: list[tuple[ItemReport, Table]] = []
        item.children = [_check_output(output, ctx, inner) for output in notebook.outputs]
        code = {number: source for number, cell_type, source in notebook.sources}
        for output, child in zip(notebook.outputs, item.children, strict=True):
            if output.cell in code and not output.mime.startswith("image/"):
                child.rules += code_output_rules(
                    code[output.cell],
                    output.plain or output.text or "",
                    ctx.policy,
                    where=output.where,
                )
        item.children += source_tables
        return Checked(item, notebook.canonical, inner_tables=tuple(inner))
    if kind == "html":
        return _check_html(name, data, ctx)
    if kind == "text":
        decoded = prose = ""
        if name.lower().endswith(".json"):
            value = load_json(data, limits, what="JSON document")
            if isinstance(value, RuleResult):
                return Checked(ItemReport(name, "text", [value]), None)
            if (longest := longest_list(value)) > limits.max_rows:
                summary = (
                    f"{name} has more than {limits.max_rows:,} rows: it holds a list of"
                    f" {longest:,} values"
                )
                return Checked(_refused(name, "text", "file.limits", summary), None)
            read: set[int] = set()
            grids = find_json_tables(value, read)
            decoded = "\n\n".join(json_strings(value, read))  # a table in a string is a table
            prose = "\n".join(json_prose(value, read))
        text = decode_text(data)
        if text is None:
            return Checked(
                ItemReport(
                    name,
                    "text",
                    [
                        flagged(
                            "file.type",
                            Status.FAIL,
                            "type not allowed: binary content in a text file",
                        )
                    ],
                ),
                None,
            )
        canonical = text.replace("\r\n", "\n").encode("utf-8")
        json_file = name.lower().endswith(".json")
        rules = check_text(
            text + ("\n" + decoded if decoded else ""),
            ctx,
            where=name,
            prose=prose if json_file else None,
        )
        if evidence is not None:
            try:
                parsed = ev.parse_evidence(evidence)
            except ev.EvidenceError as exc:
                rules.append(inconsistent(name, f"the sidecar is unusable: {exc}"))
            else:
                if parsed.kind == "model":
                    # The sidecar adds evidence; a failure the printed text shows stays,
                    # unless the sidecar's own verdict already fails.
                    from_evidence = model_evidence(text, parsed, ctx.policy, where=name)
                    keep_text_failures = all(r.status is not Status.FAIL for r in from_evidence)
                    rules = [
                        r
                        for r in rules
                        if r.rule != "model.dof" or (keep_text_failures and r.status is Status.FAIL)
                    ]
                    rules += from_evidence
        item = ItemReport(name, "text", rules, sha256=content_hash(canonical))
        in_text: list[tuple[ItemReport, Table]] = []
        if name.lower().endswith(".json"):  # its values once, and the tables in its strings
            found = [FoundTable(grid) for grid in grids]
            item.children = tables_checked(found, ctx, where=name, collect=in_text)
            if decoded:
                item.children += text_tables(decoded, ctx, where=name, collect=in_text)
        else:
            item.children = text_tables(text, ctx, where=name, collect=in_text)
        return Checked(item, canonical, inner_tables=tuple(in_text))
    return Checked(
        ItemReport(
            name,
            "other",
            [
                flagged(
                    "file.type",
                    Status.FAIL,
                    "type not allowed: only tables (CSV/TSV), notebooks, PNG/JPEG images and text"
                    " (txt, md, log, json) may leave",
                )
            ],
        ),
        None,
    )


def _check_html(name: str, data: bytes, ctx: Context) -> Checked:
    """An HTML page (``df.to_html()``, a Styler's ``to_html()``), released as written."""
    text = decode_text(data)
    if text is None:
        return Checked(_refused(name, "html", "file.type", "binary content in an HTML file"), None)
    page = html_page(text, ctx, where=name)
    if isinstance(page, RuleResult):
        return Checked(ItemReport(name, "html", [page]), None)
    inner: list[tuple[ItemReport, Table]] = []
    rules, children = html_checked(page, text, ctx, where=name, collect=inner)
    canonical = text.replace("\r\n", "\n").encode("utf-8")
    item = ItemReport(name, "html", rules, sha256=content_hash(canonical), children=children)
    return Checked(item, canonical, inner_tables=tuple(inner))


def _refused(label: str, kind: str, rule: str, summary: str) -> ItemReport:
    return ItemReport(label, kind, [flagged(rule, Status.FAIL, summary)])


def _check_file(path: Path, label: str, ctx: Context) -> Checked:
    """One file, read once (``files.read_once``), with the evidence sidecar that shares its
    name; refused unread when it is a link, a special file or too big."""
    return _check_read(path, label, files.read_once(path, ctx.policy.limits.max_bytes), ctx)


def _check_read(path: Path, label: str, data: bytes | files.Refusal, ctx: Context) -> Checked:
    """A file's bytes, read once, checked with its evidence sidecar's."""
    if isinstance(data, files.Refusal):
        return Checked(_refused(label, _kind_of(path.name), data.rule, data.summary), None)
    sidecar = path.with_name(path.name[: -len(path.suffix)] + ev.SUFFIX) if path.suffix else None
    evidence = None
    if sidecar is not None and sidecar.exists():
        read = files.read_once(sidecar, ctx.policy.limits.max_bytes)
        evidence = read if isinstance(read, bytes) else None
    return check_bytes(label, data, ctx, evidence=evidence)


def _acro_items(folder: Path, label: str, ctx: Context, done: set[Path]) -> list[Checked]:
    """An ACRO output folder: each output's files, under ACRO's own records of its checks."""
    outputs = read_acro_folder(folder, ctx.policy.limits)
    if isinstance(outputs, RuleResult):
        return [Checked(ItemReport(f"{label}/results.json", "acro", [outputs]), None)]
    checked: list[Checked] = []
    for name in BOOKKEEPING:  # the folder's evidence: never items, never released
        entry = folder / name
        done.update(entry.rglob("*") if entry.is_dir() else [entry])
    for output in outputs:
        parent = ItemReport(f"{label}/{output.uid}", f"acro.{output.type}")
        parent.notes.append(f"ACRO: {output.status.value}: {output.summary}")
        if output.exception:
            parent.notes.append(f"exception requested: {output.exception}")
        parent.notes += list(output.comments)
        rules = list(output.checks)
        read: list[bytes | None] = []
        for path in output.files:
            data = files.read_once(path, ctx.policy.limits.max_bytes)
            read.append(data if isinstance(data, bytes) else None)
            child = _check_read(path, f"{label}/{path.relative_to(folder).as_posix()}", data, ctx)
            done.add(path)
            shape = child.table.shape if child.table is not None else None
            if shape is None or not output.cells_apply_to(shape):
                rules = [replace(r, cells=()) for r in rules]
            parent.children.append(child.report)
            checked.append(Checked(child.report, child.canonical, child.table))
        same = output.checksum_rule(read)  # the bytes checked are the bytes ACRO checked
        if same is not None:
            rules.append(same)
        parent.rules = rules
        _answered_by_acro(parent, output)
        checked.append(Checked(parent, None))
    return checked


# What ACRO's records answer, as an evidence sidecar does: a table's contributors (its
# threshold, dominance and p% checks) and a model's residual degrees of freedom.
_ACRO_ANSWERS = {  # (ACRO's output type, its record) -> our reviews it answers
    ("table", "acro.threshold"): ("statistic.units",),
    ("table", "acro.dominance"): ("magnitude.evidence",),
    ("regression", "acro.model.dof"): ("magnitude.evidence", "model.units", "statistic.units"),
}


def _answered_by_acro(parent: ItemReport, output: AcroOutput) -> None:
    """Drop, from the output's files, the reviews that ACRO's own records answer; the
    parent says so in a note. A failing record of ACRO's stays on the parent."""
    answered = {
        rule for check in output.checks for rule in _ACRO_ANSWERS.get((output.type, check.rule), ())
    }
    if not answered:
        return
    for item in walk(parent.children):
        kept = [r for r in item.rules if not (r.rule in answered and r.status is Status.REVIEW)]
        if len(kept) != len(item.rules):
            item.notes.append(
                "answered by ACRO's records (researcher-asserted): " + ", ".join(sorted(answered))
            )
            item.rules = kept


def check_paths(
    paths: Sequence[Path], ctx: Context, *, canonical: dict[str, bytes] | None = None
) -> Report:
    """Check files and folders (walked).

    An evidence sidecar feeds the check of the output that shares its name and is never an
    item: it is disclosive and never released (one without its output fails). A folder
    written by ACRO is read with ACRO's records of its checks. Tables of counts are then
    compared with each other and with ``ctx.released`` (differencing). Given ``canonical``,
    the canonical form of each file checked is added to it, by its SHA-256.
    """
    with _few_collections():
        return _check_paths(paths, ctx, {} if canonical is None else canonical)


def _check_paths(paths: Sequence[Path], ctx: Context, canonical: dict[str, bytes]) -> Report:
    report = Report(ctx.policy)
    deadline = time.monotonic() + ctx.budget_seconds
    entries = files.walk(paths)
    for entry in entries:
        if entry.unlisted is not None:
            report.items.append(_refused(entry.label, "other", "file.unreadable", entry.unlisted))
    found = [(e.path, e.label) for e in entries if e.unlisted is None]
    stems = {
        (p.parent, p.name[: -len(p.suffix)] if p.suffix else p.name)
        for p, _ in found
        if not p.name.endswith(ev.SUFFIX)
    }
    labels = dict(found)
    done: set[Path] = set()
    tables: list[tuple[ItemReport, str, Table]] = []
    magnitudes: list[tuple[ItemReport, str, Table, ev.Evidence]] = []
    for folder in sorted({p.parent for p, _ in found if p.name == "results.json"}):
        if is_acro_folder(folder):
            label = labels[folder / "results.json"].rsplit("/", 1)[0]
            for checked in _acro_items(folder, label, ctx, done):
                if checked.table is not None:
                    tables.append((checked.report, checked.report.path, checked.table))
                if checked.report.kind.startswith("acro") or checked.report.path.endswith(
                    "results.json"
                ):
                    report.items.append(checked.report)
    for path, label in found:
        if path in done:
            continue
        if path.name.endswith(ev.SUFFIX):
            if (path.parent, path.name[: -len(ev.SUFFIX)]) not in stems:
                report.items.append(
                    _refused(
                        label,
                        "evidence",
                        "file.type",
                        "an evidence sidecar without its output (never released)",
                    )
                )
            continue
        if time.monotonic() > deadline:
            report.items.append(
                _refused(
                    label,
                    "other",
                    "file.limits",
                    f"not checked: the check's time budget of {ctx.budget_seconds:g} s ran out"
                    " before this file (split the request)",
                )
            )
            continue
        checked = _check_file(path, label, ctx)
        report.items.append(checked.report)
        if checked.canonical is not None and checked.report.sha256 is not None:
            canonical[checked.report.sha256] = checked.canonical
        if checked.table is not None:
            tables.append((checked.report, label, checked.table))
        for child, table in checked.inner_tables:
            tables.append((child, f"{label}: {child.path}", table))
        if checked.magnitude is not None:
            magnitudes.append((checked.report, label, *checked.magnitude))
    pool = [(name, table) for _, name, table in tables]
    compared = len(pool) + len(ctx.released)
    if compared > MAX_TABLES_COMPARED:
        differencing = [
            flagged(
                "differencing",
                Status.REVIEW,
                f"{compared} tables are more than the {MAX_TABLES_COMPARED}"
                " compared pairwise: look for differencing by eye",
            )
        ] * len(tables)
    else:
        differencing = check_all_differencing(pool, [*pool, *ctx.released], ctx.policy)
    for (item, _, _), result in zip(tables, differencing, strict=True):
        item.rules.append(result)
    for (item, _, _), hidden in zip(tables, across(pool, ctx.policy, ctx.released), strict=True):
        if hidden is not None:
            item.rules.append(hidden)
    for item, name, table, evidence in magnitudes:
        others = [(n, t, e) for _, n, t, e in magnitudes if n != name]
        item.rules.append(magnitude_differencing(table, evidence, name, others, ctx.policy))
    return report
