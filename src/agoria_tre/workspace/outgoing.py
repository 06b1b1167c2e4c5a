"""What a workspace sends to the airlock: files read without following links, a notebook's
selected cells as a notebook of their own, and a table's evidence sidecar beside it.

A :class:`Source` is what the researcher pointed at (a path under the server's root, and for
a notebook possibly some of its cells); :func:`collect` turns it into an :class:`Outgoing`
item, the exact bytes the local check reads and the airlock receives. Every refusal is a
:class:`Refused` whose message is for the researcher.
"""

from __future__ import annotations

import errno
import json
import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from agoria_tre.airlock.store import item_name
from agoria_tre.disclosure.evidence import SUFFIX as EVIDENCE_SUFFIX
from agoria_tre.errors import InvalidInput

DEFAULT_MAX_BYTES = 20 * 1024 * 1024  # the airlock's default largest item
MAX_ITEMS = 50


class Refused(Exception):
    """A bad or impossible export, with an HTTP status and a message for the researcher."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass(frozen=True)
class Source:
    path: str  # relative to the server's root, as the file browser names it
    cells: tuple[str, ...] | None = None  # a notebook's selected cells (their ids)

    @classmethod
    def from_json(cls, value: Any) -> Source:
        if not isinstance(value, dict) or not isinstance(value.get("path"), str):
            raise Refused(400, "bad_source", "each item needs a 'path' (a file's path)")
        cells = value.get("cells")
        if cells is not None and (
            not isinstance(cells, list)
            or not cells
            or not all(isinstance(c, str) and c for c in cells)
        ):
            raise Refused(400, "bad_source", "'cells' must be a non-empty list of cell ids")
        return cls(value["path"], None if cells is None else tuple(cells))

    def as_json(self) -> dict[str, Any]:
        return {"path": self.path} | ({} if self.cells is None else {"cells": list(self.cells)})


@dataclass(frozen=True)
class Outgoing:
    source: Source
    name: str  # its name in the request
    data: bytes
    evidence_path: str | None  # the sidecar that travels with it, if there is one
    evidence: bytes | None


def sources_from_json(body: Any) -> list[Source]:
    items = body.get("items") if isinstance(body, dict) else None
    if not isinstance(items, list) or not items:
        raise Refused(400, "no_items", "choose at least one file or cell to export")
    if len(items) > MAX_ITEMS:
        raise Refused(400, "too_many_items", f"at most {MAX_ITEMS} items go in one request")
    return [Source.from_json(item) for item in items]


def _parts(relative: str) -> list[str]:
    if not relative or "\0" in relative:
        raise Refused(400, "bad_path", "a file's path is needed")
    path = PurePosixPath(relative)
    if path.is_absolute() or any(part in ("..", ".") for part in path.parts):
        raise Refused(400, "bad_path", f"{relative!r} is not a path inside this workspace")
    return list(path.parts)


def read_file(root: str, relative: str, limit: int = DEFAULT_MAX_BYTES) -> bytes | None:
    """The bytes of the regular file ``relative`` under ``root``, opening each folder and the
    file without following a link (a link anywhere on the way is refused); None when there
    is no such file."""
    parts = _parts(relative)
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC
    fd = os.open(root, flags | os.O_DIRECTORY)
    try:
        for part in parts[:-1]:
            try:
                inner = os.open(part, flags | os.O_DIRECTORY, dir_fd=fd)
            except FileNotFoundError:
                return None
            except OSError as exc:
                raise _refusal(relative, exc) from exc
            os.close(fd)
            fd = inner
        try:
            file_fd = os.open(parts[-1], flags | os.O_NONBLOCK, dir_fd=fd)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise _refusal(relative, exc) from exc
        if not stat.S_ISREG(os.fstat(file_fd).st_mode):
            os.close(file_fd)
            raise Refused(400, "not_a_file", f"{relative!r} is not a file")
        with os.fdopen(file_fd, "rb") as handle:
            data = handle.read(limit + 1)
    finally:
        os.close(fd)
    if len(data) > limit:
        raise Refused(413, "too_large", f"{relative!r} is larger than {limit:,} bytes")
    return data


def _refusal(relative: str, exc: OSError) -> Refused:
    if exc.errno in (errno.ELOOP, errno.ENOTDIR):
        return Refused(
            400, "link", f"{relative!r} goes through a link or a file: export the file itself"
        )
    return Refused(400, "unreadable", f"{relative!r} cannot be read ({exc.strerror})")


def evidence_path(relative: str) -> str | None:
    """Where ``safe`` writes the sidecar of ``relative`` (``t.csv`` → ``t.evidence.json``)."""
    path = PurePosixPath(relative)
    if not path.suffix:
        return None
    return str(path.with_name(path.name[: -len(path.suffix)] + EVIDENCE_SUFFIX))


def notebook_cells(data: bytes, cells: Sequence[str], relative: str) -> bytes:
    """The notebook ``data`` holding only ``cells`` (by id, in the notebook's order), sources
    and outputs, its metadata kept."""
    try:
        notebook = json.loads(data)
        all_cells = notebook["cells"]
        if not isinstance(all_cells, list):
            raise TypeError("cells is not a list")
    except (ValueError, KeyError, TypeError) as exc:
        raise Refused(400, "bad_notebook", f"{relative!r} is not a notebook ({exc})") from exc
    wanted = set(cells)
    kept = [c for c in all_cells if isinstance(c, dict) and c.get("id") in wanted]
    missing = wanted - {c["id"] for c in kept}
    if missing:
        raise Refused(
            409,
            "unsaved_cells",
            f"{len(missing)} of the selected cells are not in the saved {relative!r}:"
            " save the notebook and try again",
        )
    return (json.dumps({**notebook, "cells": kept}, indent=1, ensure_ascii=False) + "\n").encode()


def collect(root: str, source: Source, limit: int = DEFAULT_MAX_BYTES) -> Outgoing:
    """The item ``source`` names, with its sidecar when there is one."""
    relative = source.path
    name = _parts(relative)[-1]
    if name.endswith(EVIDENCE_SUFFIX):
        raise Refused(
            400,
            "evidence_alone",
            f"{relative!r} is the evidence of a table: it travels with its table, never alone",
        )
    try:
        item_name(name)  # the airlock's own rule for an item's name
    except InvalidInput as exc:
        raise Refused(
            400, "bad_name", f"the airlock refuses {relative!r}: {exc}; rename the file"
        ) from exc
    data = read_file(root, relative, limit)
    if data is None:
        raise Refused(404, "no_file", f"there is no file {relative!r}")
    if source.cells is not None:
        if not name.endswith(".ipynb"):
            raise Refused(400, "not_a_notebook", f"cells are chosen in a notebook, not {name!r}")
        data = notebook_cells(data, source.cells, relative)
        name = name.removesuffix(".ipynb") + "-cells.ipynb"
    sidecar = evidence_path(relative) if source.cells is None else None
    evidence = read_file(root, sidecar, limit) if sidecar else None
    return Outgoing(source, name, data, sidecar if evidence is not None else None, evidence)


def collect_all(
    root: str, sources: Sequence[Source], limit: int = DEFAULT_MAX_BYTES
) -> list[Outgoing]:
    """Every source's item; two items of one name are refused (a name is unique in a request)."""
    items = [collect(root, source, limit) for source in sources]
    seen: dict[str, str] = {}
    for item in items:
        if item.name in seen:
            raise Refused(
                400,
                "same_name",
                f"{seen[item.name]!r} and {item.source.path!r} would both be sent as"
                f" {item.name!r}: rename one",
            )
        seen[item.name] = item.source.path
    return items
