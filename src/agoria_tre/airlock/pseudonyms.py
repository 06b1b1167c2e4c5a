"""The pseudonyms the server-side check looks for: those of every project the requester
belongs to, read from the projects' live copies (as ``agoria-tre check --pseudonyms``).

Each copy is read once: its pseudonyms are kept, one per line, in a file named by the copy's
content hash; a check gets one file that joins the files of the requester's projects.
"""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path

import pyarrow.parquet as pq
from sqlalchemy import select
from sqlalchemy.orm import Session

from agoria_tre import layout
from agoria_tre.catalog.models import DatasetCopy, Membership
from agoria_tre.ingest.pipeline import DATA_FILE

log = logging.getLogger(__name__)


class PseudonymCache:
    def __init__(self, root: Path, home: Path) -> None:
        self.root = root
        self.home = home
        root.mkdir(mode=0o700, parents=True, exist_ok=True)

    def file_for(self, session: Session, username: str, work: Path) -> Path | None:
        """One file of the pseudonyms of ``username``'s projects, under ``work``; None when
        those projects hold no copy."""
        projects = select(Membership.project_id).where(Membership.username == username)
        copies = session.scalars(
            select(DatasetCopy)
            .where(DatasetCopy.project_id.in_(projects), DatasetCopy.removed_at.is_(None))
            .order_by(DatasetCopy.id)
        ).all()
        parts = [part for part in map(self._of, copies) if part is not None]
        if not parts:
            return None
        joined = work / "pseudonyms.txt"
        with joined.open("wb") as out:
            for part in parts:
                out.write(part.read_bytes())
        return joined

    def _of(self, copy: DatasetCopy) -> Path | None:
        cached = self.root / f"{copy.content_hash}.txt"
        if cached.exists():
            return cached
        columns = [
            c["name"]
            for c in copy.dataset_version.schema.get("columns", [])
            if c.get("role") == "pseudonym"
        ]
        source = layout.under_home(self.home, copy.storage_path) / DATA_FILE
        if not columns or not source.is_file():
            return None
        table = pq.read_table(source, columns=columns)
        values = sorted(
            {str(v) for name in columns for v in table.column(name).to_pylist() if v is not None}
        )
        if not values:
            return None
        temporary = self.root / f".{copy.content_hash}.{secrets.token_hex(4)}"
        temporary.write_text("".join(v + "\n" for v in values), encoding="utf-8")
        os.replace(temporary, cached)
        log.info("pseudonyms of %s read: %d", copy.storage_path, len(values))
        return cached
