"""A release: the approved items of a request in a zip, with ``release.json`` saying what
was checked, by which checker and policy, who decided what and when, and what the result
was made from.

The zip is built from the stored canonical contents (each hash verified again as it is
read), with fixed timestamps and order, so the same release gives the same bytes. Evidence
sidecars never leave: ``release.json`` records only their hashes. Rejected and conflicted
items never leave either; the file says only how many were withheld.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from agoria_tre import audit

if TYPE_CHECKING:  # pragma: no cover
    from agoria_tre.catalog.models import ExportItem, ExportRequest

SCHEMA = "agoria-tre/release/1"
OUTPUTS = "outputs/"


def manifest(
    request: ExportRequest,
    items: Sequence[ExportItem],
    contents: Mapping[str, bytes],
    decisions: Callable[[ExportRequest, ExportItem], list[dict[str, Any]]],
    *,
    released_at: datetime,
    audit_seq: int,
) -> dict[str, Any]:
    """The ``release.json`` of ``request`` releasing ``items`` at ``released_at``, by the
    audit event ``audit_seq``."""
    report = request.check_report or {}
    return {
        "schema": SCHEMA,
        "request": {
            "id": request.id,
            "project": request.project.slug,
            "title": request.title,
            "requester": request.requester,
            "from_workspace": request.from_workspace,
            "created_at": audit.format_timestamp(request.created_at),
            "submitted_at": None
            if request.submitted_at is None
            else audit.format_timestamp(request.submitted_at),
            "round": request.round,
        },
        "release": {
            "released_at": audit.format_timestamp(released_at),
            "released_by": request.released_by,
            "audit_seq": audit_seq,
        },
        "provenance": request.provenance,
        "checker": report.get("checker"),
        "policy": report.get("policy"),
        "check_notes": report.get("notes", []),
        "items": [
            {
                "name": item.name,
                "path": OUTPUTS + item.name,
                "sha256": hashlib.sha256(contents[item.id]).hexdigest(),
                "size": len(contents[item.id]),
                "kind": item.kind,
                "uploaded_sha256": item.upload_sha256,
                "evidence_sha256": item.evidence_sha256,
                "justification": item.justification,
                "check": item.check,
                "decisions": decisions(request, item),
            }
            for item in items
        ],
        "withheld": len(request.items) - len(items),
    }


def build(described: dict[str, Any], files: Mapping[str, bytes], released_at: datetime) -> bytes:
    """The release zip: ``outputs/<name>`` for each of ``files`` and ``release.json`` (the
    manifest ``described``), every entry dated ``released_at``, in a fixed order."""
    moment = released_at.timetuple()[:6]
    text = json.dumps(described, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
    entries = [(OUTPUTS + name, data) for name, data in files.items()]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in [*entries, ("release.json", text.encode("utf-8"))]:
            info = zipfile.ZipInfo(name, date_time=moment)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    return out.getvalue()
