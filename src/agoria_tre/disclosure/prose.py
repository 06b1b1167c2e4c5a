"""Hints for reviewers in prose: passages that may disclose, with their character spans.

Prose cannot be judged exactly: "3 patients died" is a small count, "grade 3" is not, and
no rule can tell every case. So prose never fails on a guess (identifiers, pseudonyms and
birth dates, found exactly, fail elsewhere); each passage below becomes a hint, and a text
with hints is for review, its spans shown to the two reviewers:

- ``count``: a whole number from 1 to threshold - 1 (in digits, or a word from ``one`` to
  ``ten``, ``deux`` to ``dix``) within four words of a word naming units (patients, cases,
  deaths, women…), or written ``n = 3``; not when a word before it makes it a name or a
  rank (``grade 3``, ``stage 2``, ``figure 3``, ``cycle 2``: :data:`RANK_WORDS`);
- ``extreme``: a word naming a minimum or a maximum (``oldest``, ``maximum``, ``plus
  âgé``, ``range``) with a number within six words after it;
- ``quantile``: a median, quartile or percentile with a number within six words after it;
- ``age``: one person's age (``a 71-year-old``, ``âgé de 64 ans``, ``a woman of 64``).

Only prose lines are read: a line of a table (cells separated by ``|``, a tab, or runs of
two spaces or more) is a table's, checked as a table. The verdict is a function of the
words around each number, so a reviewer can predict it and a rewording that keeps a count
beside a unit word keeps the hint.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

from agoria_tre.disclosure.policy import Policy
from agoria_tre.disclosure.report import RuleResult, flagged, passed, plural
from agoria_tre.disclosure.rules.identifiers import date_spans
from agoria_tre.disclosure.status import Status
from agoria_tre.disclosure.vocabulary import vocabulary

UNIT_WORDS = vocabulary(
    "patient patients patiente patientes cas case cases décès deces death deaths décédé "
    "décédés décédée décédées event events événement événements evenement evenements "
    "sujet sujets subject subjects people person persons personne personnes homme hommes "
    "femme femmes woman women man men individu individus individual individuals "
    "participant participants enfant enfants child children malade malades résident "
    "résidents resident residents survivor survivors survivant survivants respondent "
    "respondents naissance naissances birth births admission admissions hospitalisation "
    "hospitalisations hospitalization hospitalizations séjour séjours sejour sejours stay "
    "stays user users usager usagers bénéficiaire bénéficiaires volunteer volunteers "
    "volontaire volontaires infant infants nourrisson nourrissons mère mères mother "
    "mothers grossesse grossesses pregnancy pregnancies control controls témoin témoins "
    "fumeur fumeurs smoker smokers adulte adultes adult adults élève élèves pupil pupils "
    "student students étudiant étudiants employee employees worker workers salarié "
    "salariés stroke strokes infarctus suicide suicides victim victims victime victimes "
    "died mourut moururent"
)
RANK_WORDS = vocabulary(
    "grade stage stade type version v figure fig table tableau cohort cohorte group "
    "groupe arm bras phase niveau level class classe day jour week semaine month mois "
    "year an année annee visit visite wave vague cycle line ligne étape etape step no num "
    "tier rang rank score dose lot batch site centre center region région zone cluster "
    "catégorie categorie category chapitre chapter section annexe appendix model modèle "
    "modele item question q lignes rows row columns column colonnes colonne top iso nyha "
    "page pages p pp "
    "asa tnm gold ecog python pandas statsmodels lifelines numpy"
)
# Rank words that name a group: as a label's last word, the label counts that group
# ("Deaths in the control group: 2").
GROUP_WORDS = vocabulary(
    "group groupe arm bras cohort cohorte region région site centre center cluster zone "
    "category catégorie categorie class classe"
)
NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "deux": 2, "trois": 3, "quatre": 4, "cinq": 5, "sept": 7,
    "huit": 8, "neuf": 9, "dix": 10, "both": 2,
}  # fmt: skip
# Words that count units (``n``, ``effectif``) or say what happened to them (``excluded``).
COUNT_WORDS = vocabulary(
    "n nb nbr effectif effectifs sample size observations obs nobs entries "
    "positives negatives sum excluded included lost deceased readmitted treated enrolled "
    "recruited randomised randomized censored survived discharged transferred hospitalised "
    "hospitalized exclus exclues inclus incluses perdus décédés traités hospitalisés "
    "réadmis recrutés"
)
# After a number, a unit of measure or time makes it a measure, not a count.
MEASURE_UNITS = vocabulary(
    "year years yr yrs month months week weeks day days hour hours minute minutes ans an "
    "mois semaine semaines jour jours heure heures kg g mg cm mm ml l mmol µmol mmhg bpm "
    "points point ref"
)
# Before a number, a ratio or a rate makes it a ratio ("per nurse: 3", "patients/doctor").
RATIO_WORDS = vocabulary("per par pour")
EXTREME_WORDS = vocabulary(
    "min minimum max maximum youngest oldest highest lowest largest smallest longest "
    "shortest range étendue etendue maximal maximale minimal minimale"
)
# Verbs of a range: what varies before them may be groups' statistics ("Mortality ranged").
RANGE_VERBS = vocabulary(
    "ranged ranging spanned spanning varied varying allait allaient variait variaient"
)
EXTREME_PHRASES = re.compile(
    r"\b(?:plus (?:âgée?s?|jeunes?|élevée?s?|faibles?|long(?:ue)?s?|court(?:e)?s?))\b", re.I
)
QUANTILE_WORDS = vocabulary(
    "median médiane mediane iqr quartile quartiles percentile percentiles interquartile"
)
# The words that announce a statistic's number: the only ones looked around.
_ANNOUNCING = EXTREME_WORDS | RANGE_VERBS | QUANTILE_WORDS
# A range of groups' statistics, of a scale or of a period is no individual's value.
NOT_INDIVIDUAL_WORDS = vocabulary(
    "mean means average moyenne moyennes rate rates taux ratio ratios auc across scale "
    "échelle period période mortality mortalité incidence prevalence "
    "prévalence hospitals hôpitaux regions régions sites centres %"
)
# A sentence stating a rule, not a result: its bounds are criteria or reference values.
CRITERION = re.compile(
    r"\b(?:eligib\w*|inclusion|criteri(?:a|on)|required|requis|thresholds?|seuils?"
    r"|éligibles?|critères?|(?:normal|reference) ranges?|valeurs? (?:normales?|de référence)"
    r"|cells? (?:need|must|size)|minimum cell|needs? a minimum)\b",
    re.IGNORECASE,
)
_TOKEN = re.compile(
    r"\d{1,3}(?:[ \u00a0\u202f]\d{3})+(?!\d|[.,]\d)|\d+(?:[.,]\d+)*|[^\W\d_]+|[=:%/(),;]",
    re.UNICODE,
)
_SEPARATORS = frozenset({":", "=", ",", ";"})
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-ZÀ-Ý])")
_DASHES = "-\u2013"  # hyphen, en dash
# A table's row: cells between bars or tabs, aligned by runs of spaces, or LaTeX's "a & b \\".
_TABLE_LINE = re.compile(r"\||\t|\S {2,}\S.* {2,}\S|&.*\\\\\s*$")
_AGE = re.compile(
    r"\b(\d{1,3})[- ]year[- ]old\b|\b(?:woman|man|patient|femme|homme) of (\d{1,3})\b"
    r"|\b(?:femme|homme|patiente?|enfant) de (\d{1,3}) ans\b"
    r"|\b(?:âgée?|agée?|aged) (?:de )?(\d{1,3})"
    r"(?! (?:years |ans )?(?:or|and|ou|et|to|à|-)\b)(?: ans| years)?\b",
    re.I,
)
_AGES = re.compile(
    r"\b(?:âgée?s?|agée?s?|aged) (?:de |from |between )?\d{1,3} (?:to|and|à|et|-) \d{1,3}\b", re.I
)
_NUMBER = re.compile(r"\d|\b(?:" + "|".join(NUMBER_WORDS) + r")\b", re.IGNORECASE)
MAX_LINE = 20_000  # characters: a paragraph of prose is far shorter
MAX_PROSE = 2_000_000  # characters: more is no text a reviewer reads by its hints
WINDOW_UNITS = 4
WINDOW_STATISTIC = 6


@dataclass(frozen=True)
class Hint:
    start: int
    end: int
    kind: str  # "count", "extreme", "quantile", "age"


class _Token(NamedTuple):
    text: str
    start: int
    end: int
    word: str  # the text in lower case
    number: bool  # written in digits


def _prose_lines(text: str) -> list[tuple[int, str]]:
    """(offset, line) for each line of prose: not a table's row, and not longer than
    :data:`MAX_LINE` (see :func:`long_lines`)."""
    lines = text.split("\n")
    tabular = [bool(_TABLE_LINE.search(line)) for line in lines]
    out, at = [], 0
    for k, line in enumerate(lines):
        # a table's row stands among other rows: a lone line with a tab or a bar is prose
        row = tabular[k] and ((k > 0 and tabular[k - 1]) or (k + 1 < len(lines) and tabular[k + 1]))
        if line.strip() and len(line) <= MAX_LINE and not row:
            out.append((at, line))
        at += len(line) + 1
    return out


def without_long_lines(text: str) -> str:
    """``text`` with its lines too long to be prose emptied (their count is kept): what
    reads lines of printed output never reads a dump of data, which is reviewed whole."""
    lines = text.split("\n")
    if all(len(line) <= MAX_LINE for line in lines):
        return text
    return "\n".join("" if len(line) > MAX_LINE else line for line in lines)


def long_lines(text: str) -> list[tuple[int, int]]:
    """Spans of the lines too long to be read as prose: a paragraph is shorter; a dump of
    data is not, and is never passed unread (:func:`prose_rule` asks for review)."""
    out, at = [], 0
    for line in text.split("\n"):
        if len(line) > MAX_LINE:
            out.append((at, at + len(line)))
        at += len(line) + 1
    return out


def _sentences(line: str) -> list[tuple[int, str]]:
    """(offset, sentence) for each sentence of a line: a criterion holds for its own."""
    out, at = [], 0
    for match in _SENTENCE_END.finditer(line):
        out.append((at, line[at : match.start()]))
        at = match.end()
    out.append((at, line[at:]))
    return out


def _value(token: _Token) -> int | None:
    if not token.number:
        return NUMBER_WORDS.get(token.word)
    digits = token.text if token.text.isdecimal() else re.sub(r"[ \u00a0\u202f]", "", token.text)
    return int(digits) if digits.isdecimal() else None


def _count(
    tokens: list[_Token],
    k: int,
    line: str,
    offset: int,
    dates: Callable[[], list[tuple[int, int]]],
) -> bool:
    """Whether token ``k``, a number under the threshold, is a small count (see the module
    docstring)."""
    token = tokens[k]
    if _range_bound(line, token.start - offset, token.end - offset) or _bound_in_words(tokens, k):
        return False
    if not _counted(tokens, k):
        return False
    return not any(a <= token.start < b for a, b in dates())


def _counted(tokens: list[_Token], k: int) -> bool:
    """Whether the words around token ``k`` make it a count of units."""
    before = [t.word for t in tokens[max(0, k - WINDOW_UNITS) : k]]
    following = [t.word for t in tokens[k + 1 : k + 3] if t.word != "("]
    after = following[0] if following else ""
    if (before and before[-1] in RANK_WORDS) or after in MEASURE_UNITS | RATIO_WORDS | {"%"}:
        return False  # "grade 3", "3 years", "3 per 1000", "3 %"
    if after in ("of", "sur", "/") and k + 2 < len(tokens) and tokens[k + 2].number:
        return True  # "2 of 3"
    if before and before[-1] in ("of", "sur", "/") and k >= 2 and tokens[k - 2].number:
        return not (k >= 3 and tokens[k - 3].word in RANK_WORDS)  # "2 of 3", not "page 2 of 3"
    if after == "in" or (
        len(before) >= 2 and before[-1] == "in" and _value(tokens[k - 2]) is not None
    ):
        return False  # "1 in 3", "one in three": a ratio
    previous = [w for w in before if w != "("]
    if previous and previous[-1] in (":", "="):  # a label's value: "Readmitted: 4", "n = 8"
        label = _label(tokens, k)
        head = next((w for w in label if w not in ("(", ")")), "")
        if head in RANK_WORDS - GROUP_WORDS or set(label) & (
            RATIO_WORDS | QUANTILE_WORDS | {"/", "%"}
        ):
            return False  # "score: 4", "Patients per nurse: 3", "Missing values (%): 3"
        if set(label) & (UNIT_WORDS | COUNT_WORDS):
            return True
    near = [t.word for t in tokens[max(0, k - WINDOW_UNITS) : k + WINDOW_UNITS + 1]]
    return bool(set(near) & (UNIT_WORDS | COUNT_WORDS))


def _bound_in_words(tokens: list[_Token], k: int) -> bool:
    """Whether token ``k`` bounds a range written in words: "from 1 to 31", "de 18 à 94",
    "between 2 and 5"."""
    opening, closing = {"from", "de", "between", "entre"}, {"to", "à", "and", "et"}
    if k > 0 and tokens[k - 1].word in opening:
        return k + 2 < len(tokens) and tokens[k + 1].word in closing and tokens[k + 2].number
    return (
        k >= 3
        and tokens[k - 1].word in closing
        and tokens[k - 2].number
        and tokens[k - 3].word in opening
    )


def _range_bound(line: str, start: int, end: int) -> bool:
    """Whether the number at ``line[start:end]`` bounds a range ("3-9", with an en dash too)."""
    after = line[end : end + 2]
    before = line[max(0, start - 2) : start]
    return (len(after) == 2 and after[0] in _DASHES and after[1].isdigit()) or (
        len(before) == 2 and before[1] in _DASHES and before[0].isdigit()
    )


def _label(tokens: list[_Token], k: int) -> list[str]:
    """The words of the label whose value token ``k`` is, last first: back from its ``:`` or
    ``=`` to the previous separator (``"region": "Corse", "deaths": 3`` -> deaths)."""
    j = k - 1
    while tokens[j].word not in (":", "="):
        j -= 1
    words: list[str] = []
    j -= 1
    while j >= 0 and tokens[j].word not in _SEPARATORS:
        words.append(tokens[j].word)
        j -= 1
    return words


def _fraction_rest(tokens: list[_Token], k: int, a: int, threshold: int) -> bool:
    """``A/B`` or ``A of B`` (token ``k`` is A, of value ``a``) where B - A is small: the
    rest of the units are few."""
    if k + 2 >= len(tokens) or tokens[k + 1].word not in ("/", "of", "sur"):
        return False
    if k and tokens[k - 1].word in RANK_WORDS:
        return False  # "page 2 of 3"
    b = _value(tokens[k + 2])
    return b is not None and 0 < b - a < threshold


def _statistic(tokens: list[_Token], k: int) -> _Token | None:
    """The number a statistic word at ``k`` announces, not one that names a rank."""
    for j in range(k + 1, min(len(tokens), k + 1 + WINDOW_STATISTIC)):
        if tokens[j].number:
            return None if tokens[j - 1].word in RANK_WORDS else tokens[j]
    return None


def _line_hints(offset: int, line: str, threshold: int) -> list[Hint]:
    tokens = [
        _Token(t, offset + m.start(), offset + m.end(), t.lower(), t[0].isdecimal())
        for m in _TOKEN.finditer(line)
        for t in (m.group(),)
    ]
    found: list[list[tuple[int, int]]] = []

    def dates() -> list[tuple[int, int]]:  # read once, and only for a candidate count
        if not found:
            found.append([(offset + a, offset + b) for a, b in date_spans(line)])
        return found[0]

    criterion = CRITERION.search(line) is not None
    hints: list[Hint] = []
    for k, token in enumerate(tokens):
        value = _value(token) if token.number or token.word in NUMBER_WORDS else None
        if value is not None and 0 < value < threshold and _count(tokens, k, line, offset, dates):
            hints.append(Hint(token.start, token.end, "count"))
        elif value is not None and _fraction_rest(tokens, k, value, threshold):
            hints.append(Hint(token.start, tokens[k + 2].end, "count"))
        if token.word not in _ANNOUNCING:
            continue
        extreme = not criterion and (
            token.word in EXTREME_WORDS
            or (
                token.word in RANGE_VERBS
                and not {t.word for t in tokens[:k]} & NOT_INDIVIDUAL_WORDS
            )
        )
        if extreme or token.word in QUANTILE_WORDS:
            number = _statistic(tokens, k)
            if number is not None:
                hints.append(Hint(token.start, number.end, "extreme" if extreme else "quantile"))
    if not criterion:
        for match in _AGES.finditer(line):  # "aged 18 to 94": the youngest and the oldest
            hints.append(Hint(offset + match.start(), offset + match.end(), "extreme"))
        for match in EXTREME_PHRASES.finditer(line):
            # a bounded look ahead: the rest of a long line is not read again per match
            ahead = _TOKEN.finditer(line, match.end(), min(len(line), match.end() + 200))
            following = list(ahead)[:WINDOW_STATISTIC]
            digits = next((m for m in following if m.group()[0].isdecimal()), None)
            if digits is not None:
                hints.append(Hint(offset + match.start(), offset + digits.end(), "extreme"))
        for match in _AGE.finditer(line):
            hints.append(Hint(offset + match.start(), offset + match.end(), "age"))
    return hints


def hints(text: str, policy: Policy) -> list[Hint]:
    """Every hint in ``text``'s prose lines, in order of position."""
    found = [
        hint
        for offset, line in _prose_lines(text)
        if _NUMBER.search(line)  # every hint holds a number, in digits or in words
        for start, sentence in _sentences(line)
        for hint in _line_hints(offset + start, sentence, policy.threshold)
    ]
    return sorted(set(found), key=lambda h: (h.start, h.end, h.kind))


_KINDS = {
    "count": ("possible small count", "possible small counts"),
    "extreme": ("minimum or maximum", "minima or maxima"),
    "quantile": ("median or quantile", "medians or quantiles"),
    "age": ("person's age", "persons' ages"),
}


def prose_rule(text: str, policy: Policy, *, where: str) -> RuleResult:
    """``prose.hints``: review with the hints' spans, or pass when there is none."""
    if len(text) > MAX_PROSE:
        return flagged(
            "file.limits",
            Status.REVIEW,
            f"{where}: {len(text):,} characters of prose, more than {MAX_PROSE:,}: not"
            " searched for hints: read it by eye",
            spans=[(0, len(text))],
        )
    long = long_lines(text)
    if long:
        return flagged(
            "file.limits",
            Status.REVIEW,
            f"{where}: {plural(len(long), 'line')} of more than {MAX_LINE:,} characters, not"
            " read as prose: read them by eye",
            spans=long,
        )
    found = hints(text, policy)
    if not found:
        return passed(
            "prose.hints", f"{where}: no small count, extreme, quantile or age in its prose"
        )
    parts = []
    for kind, (one, many) in _KINDS.items():
        n = sum(h.kind == kind for h in found)
        if n:
            parts.append(plural(n, one, many))
    return flagged(
        "prose.hints",
        Status.REVIEW,
        f"{where}: {', '.join(parts)} in its prose, for the reviewers to read (see the spans)",
        spans=[(h.start, h.end) for h in found],
    )
