"""Inputs for fuzzing the checker's readers: the labelled corpus, mutated.

Each input is a corpus file (table, text, JSON, HTML, LaTeX, notebook) with a few random
edits: bytes flipped, lines duplicated or dropped, and tokens that readers treat specially
inserted (markers, delimiters, brackets, numbers, NIR-like digits, HTML tags). Notebooks
are also mutated inside their JSON, so that most stay readable notebooks. Everything follows
from the seed, so a crash found is found again.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

TOKENS = [
    "<11", "*", "NC", "masqué", "|", "\t", ";", ",", "  ", "{", "}", "[", "]", "(", ")",
    "'", '"', "0", "3", "7", "11", "2A", "-", "…", "NaN", "None", "1 234", "3 (30 %)",
    "n = 3", "min", "max", "median", "Total", "All", "<table>", "</td>", "<td colspan=3>",
    "\\\\", "&", "\\begin{tabular}", "array([", "Counter({", "2 84 05 75 115 422 55",
    "1.850578006084910000e+14", "jean@chu.fr", "06 12 34 56 78", "né le 03/12/1984",
    "\u202e", "\x1b[31m", "\r\n", "\n\n", "=HYPERLINK(", "+", "@", "é", "\u00a0",
]  # fmt: skip
SUFFIXES = (".csv", ".tsv", ".txt", ".md", ".json", ".html", ".tex", ".ipynb")


def seeds(corpus: Path) -> list[tuple[str, bytes]]:
    """(name, bytes) of every corpus file of a kind the readers read."""
    return [
        (path.name, path.read_bytes())
        for path in sorted(corpus.rglob("*"))
        if path.is_file() and path.suffix in SUFFIXES and path.name != "corpus.json"
    ]


def _mutate_text(rng: random.Random, text: str) -> str:
    for _ in range(rng.randint(1, 4)):
        choice = rng.random()
        lines = text.split("\n")
        if choice < 0.3:
            at = rng.randrange(len(text) + 1)
            text = text[:at] + rng.choice(TOKENS) + text[at:]
        elif choice < 0.45 and len(lines) > 1:
            k = rng.randrange(len(lines))
            lines.insert(k, lines[k] * rng.randint(1, 3))
            text = "\n".join(lines)
        elif choice < 0.6 and len(lines) > 1:
            del lines[rng.randrange(len(lines))]
            text = "\n".join(lines)
        elif choice < 0.75 and text:
            at = rng.randrange(len(text))
            text = text[:at] + chr(rng.randrange(32, 0x2FF)) + text[at + 1 :]
        elif choice < 0.9 and text:
            a = rng.randrange(len(text))
            b = min(len(text), a + rng.randint(1, 40))
            text = text[:a] + text[a:b] * rng.randint(2, 20) + text[b:]
        else:
            text = text.replace(rng.choice([",", " ", "|", "\t", "."]), rng.choice(TOKENS))
    return text


def _mutate_json(rng: random.Random, value: Any, depth: int = 0) -> Any:
    if isinstance(value, dict):
        return {k: _mutate_json(rng, v, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [_mutate_json(rng, v, depth + 1) for v in value]
    if isinstance(value, str) and rng.random() < 0.3:
        return _mutate_text(rng, value)
    if isinstance(value, int | float) and not isinstance(value, bool) and rng.random() < 0.2:
        return rng.choice([0, 1, 3, -1, 10**15, 2.5, None, "3"])
    return value


def mutate(rng: random.Random, name: str, data: bytes) -> bytes:
    """One mutant of a corpus file."""
    if name.endswith(".ipynb") and rng.random() < 0.7:
        try:
            return json.dumps(_mutate_json(rng, json.loads(data))).encode()
        except ValueError:
            pass
    if rng.random() < 0.1:  # bytes, not text: broken encodings and binary junk
        raw = bytearray(data)
        for _ in range(rng.randint(1, 8)):
            if raw:
                raw[rng.randrange(len(raw))] = rng.randrange(256)
        return bytes(raw)
    return _mutate_text(rng, data.decode("utf-8", "replace")).encode("utf-8", "surrogatepass")


def inputs(corpus: Path, count: int, seed: int = 10) -> Iterator[tuple[str, bytes]]:
    """``count`` mutants, cycling over the corpus files."""
    rng = random.Random(seed)
    files = seeds(corpus)
    for k in range(count):
        name, data = files[k % len(files)]
        yield name, mutate(rng, name, data)
