"""Model summaries printed in a text: statsmodels' ``summary()`` and ``summary2()``, and
lifelines' ``print_summary()``.

A summary is one fragment, not a set of tables: its coefficient block is not a table of
counts, its header lines are the model's facts (observations, residual degrees of freedom,
events) and its print date is not an identifier. :func:`find_models` finds each summary's
span in the text and reads those facts; the checker applies the model rules to them and
looks for tables only in the rest of the text (:func:`outside`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# statsmodels: a title line ("OLS Regression Results", "Results: Ordinary least squares"),
# then lines without a blank one, then optionally "Notes:" and its numbered lines.
_STATSMODELS_TITLE = re.compile(
    r"^[ \t]*(?:[A-Z][\w ]*?Regression Results|Results: [A-Z][\w ()-]*)[ \t]*$", re.M
)
_LIFELINES_TITLE = re.compile(
    r"^<lifelines\.(\w+): fitted with (\d+) total observations?[^>\n]*>[ \t]*$", re.M
)
_NOBS = re.compile(r"No\. Observations:\s+(\d+)")
_DF_RESID = re.compile(r"Df Residuals:\s+(\d+)")
_DF_MODEL = re.compile(r"Df Model:\s+(\d+)")
_LIFELINES_NOBS = re.compile(r"number of observations = (\d+)")
_LIFELINES_EVENTS = re.compile(r"number of events observed = (\d+)")
_LIFELINES_DF = re.compile(r"log-likelihood ratio test = [-\d.e+]+ on (\d+) df")
_BLANK = re.compile(r"\n[ \t]*\n")
_RULE = re.compile(r"^=+[ \t]*$", re.M)
_NOTES_HEAD = re.compile(r"\n(?:[ \t]*\n)?[ \t]*Notes:[ \t]*\n")
# lifelines' lines after its last "---": "Concordance = 0.53", "Partial AIC = 1726.51"...
_LIFELINES_TAIL = re.compile(r"[^\n=]{1,60} = [^\n]*\n?")


@dataclass(frozen=True)
class ModelSummary:
    start: int  # the summary's span in the text
    end: int
    family: str  # "OLS Regression Results", "CoxPHFitter"
    nobs: int | None
    df_resid: int | None  # as printed, or observations minus parameters (lifelines)
    events: int | None  # events observed (survival models)


def _closing_rule(text: str, start: int, stop: int) -> int | None:
    """The end of the last line of "=" between ``start`` and ``stop`` that closes a
    statsmodels summary, or None when the title is not followed by one on its next line."""
    first = _RULE.match(text, start + 1)  # the line right after the title
    if first is None:
        return None
    last = first.end()
    for rule in _RULE.finditer(text, first.end(), stop):
        last = rule.end()
    return last


def _notes_end(text: str, end: int) -> int:
    """statsmodels' notes after a summary: a blank line, "Notes:", "[n] ..." lines, each
    wrapped onto lines that go on in lower case after a long line; nothing else."""
    head = _NOTES_HEAD.match(text, end)
    if head is None:
        return end
    at, previous = head.end(), ""
    for line in text[head.end() :].split("\n"):
        if re.match(r"\[\d+\] ", line) or (len(previous) >= 60 and line[:1].islower()):
            at += len(line) + 1
            previous = line
        else:
            break
    return min(at, len(text))


def _statsmodels(text: str) -> list[ModelSummary]:
    found = []
    titles = list(_STATSMODELS_TITLE.finditer(text))
    for k, title in enumerate(titles):
        blank = _BLANK.search(text, title.end())
        stop = blank.start() if blank else len(text)
        if k + 1 < len(titles):  # a summary printed right after: this one ends before it
            stop = min(stop, titles[k + 1].start())
        closing = _closing_rule(text, title.end(), stop)
        if closing is None:
            continue  # a title without statsmodels' rules: a heading of the researcher's
        end = _notes_end(text, closing)
        body = text[title.start() : end]
        nobs = _NOBS.search(body)
        resid = _DF_RESID.search(body)
        found.append(
            ModelSummary(
                start=text.rfind("\n", 0, title.start()) + 1,
                end=end,
                family=title.group().strip(),
                nobs=int(nobs.group(1)) if nobs else None,
                df_resid=int(resid.group(1)) if resid else None,
                events=None,
            )
        )
    return found


def _lifelines(text: str) -> list[ModelSummary]:
    found = []
    for title in _LIFELINES_TITLE.finditer(text):
        # The summary runs to the line after its second "---" block: the model tests.
        end, rules = title.end(), 0
        for _ in range(2):
            rule = text.find("\n---", end)
            if rule < 0:
                break
            end, rules = rule + 4, rules + 1
        if rules == 2:  # after the coefficients: its model tests, nothing after them
            end = text.find("\n", end) + 1 or len(text)
            while tail := _LIFELINES_TAIL.match(text, end):
                end = tail.end()
        else:  # cut short: up to the next blank line
            blank = _BLANK.search(text, end)
            end = blank.start() if blank else len(text)
        body = text[title.start() : end]
        nobs = _LIFELINES_NOBS.search(body)
        events = _LIFELINES_EVENTS.search(body)
        df = _LIFELINES_DF.search(body)
        n = int(nobs.group(1)) if nobs else int(title.group(2))
        found.append(
            ModelSummary(
                start=title.start(),
                end=end,
                family=title.group(1),
                nobs=n,
                df_resid=n - int(df.group(1)) if df else None,
                events=int(events.group(1)) if events else None,
            )
        )
    return found


def find_models(text: str) -> list[ModelSummary]:
    """Every model summary in ``text`` (line ends ``\\n``), in order of position, none
    overlapping."""
    summaries = sorted(_statsmodels(text) + _lifelines(text), key=lambda s: s.start)
    kept: list[ModelSummary] = []
    for summary in summaries:
        if not kept or summary.start >= kept[-1].end:
            kept.append(summary)
    return kept


def outside(text: str, summaries: list[ModelSummary]) -> str:
    """``text`` with each summary's lines blanked (line breaks kept, so that positions of
    what remains are line-for-line the same)."""
    out, at = [], 0
    for summary in summaries:
        out.append(text[at : summary.start])
        out.append(re.sub(r"[^\n]", "", text[summary.start : summary.end]))
        at = summary.end
    out.append(text[at:])
    return "".join(out)
