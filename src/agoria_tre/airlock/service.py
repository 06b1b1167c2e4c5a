"""The airlock's business: export requests created, filled, checked, reviewed, returned,
released, downloaded and withdrawn.

Every method answers one caller's action and reads what the caller may do from the catalog
at that moment (``agoria_tre.permissions``): removing a member takes effect at once. Every
change runs in one ``Catalog.write()`` transaction, which serialises writers on the audit
chain, moves the request only through :func:`agoria_tre.airlock.lifecycle.transition` and
records the action's audit event with it: the change and its event commit together or not at
all. Reading a request, an item or a release is recorded too.

A caller is a person (:class:`Caller`); one who acts from a workspace carries the workspace's
project, and every request they make belongs to it, whatever they name.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from agoria_tre import audit
from agoria_tre.airlock import release as packaging
from agoria_tre.airlock import review
from agoria_tre.airlock.checking import CheckLimits, CheckRun, run_check
from agoria_tre.airlock.lifecycle import Party, Status, transition
from agoria_tre.airlock.pseudonyms import PseudonymCache
from agoria_tre.airlock.store import ContentStore, item_name
from agoria_tre.catalog.db import Catalog
from agoria_tre.catalog.grants import mountable_versions
from agoria_tre.catalog.models import (
    DatasetCopy,
    ExportItem,
    ExportRequest,
    ExportReview,
    Membership,
    Project,
    Role,
    WorkspaceImage,
    utcnow,
)
from agoria_tre.catalog.projects import get_project, roles_of
from agoria_tre.disclosure.evidence import SUFFIX as EVIDENCE_SUFFIX
from agoria_tre.disclosure.status import Status as CheckStatus
from agoria_tre.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from agoria_tre.names import MAX_TEXT
from agoria_tre.permissions import Actor, check_review_export, check_submit_export

log = logging.getLogger(__name__)

SYSTEM = "airlock"  # the actor of the system's own moves in the audit log
MAX_COMMENT = 4000
OPEN = (Status.SUBMITTED, Status.CHECKING, Status.IN_REVIEW)
DEFAULT_LIMITS = CheckLimits()


# Archives (and documents that are archives) are never items: nothing is unpacked here.
ARCHIVES = (
    (0, b"PK\x03\x04"), (0, b"PK\x05\x06"), (0, b"\x1f\x8b"), (0, b"BZh"),
    (0, b"\xfd7zXZ\x00"), (0, b"7z\xbc\xaf\x27\x1c"), (0, b"\x28\xb5\x2f\xfd"),
    (0, b"Rar!"), (257, b"ustar"),
)  # fmt: skip


def is_archive(data: bytes) -> bool:
    return any(data[at : at + len(magic)] == magic for at, magic in ARCHIVES)


@dataclass(frozen=True)
class Caller:
    """Who asks: a user's name and, when they act from a workspace, its project's slug."""

    name: str
    workspace: str | None = None


@dataclass(frozen=True)
class Download:
    filename: str
    data: bytes


def _text(value: object, what: str, limit: int, *, required: bool = True) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise InvalidInput(f"{what} must be text")
    if required and not value.strip():
        raise InvalidInput(f"{what} is required")
    if len(value) > limit:
        raise InvalidInput(f"{what} has at most {limit} characters")
    if any(ord(c) < 32 and c not in "\n\t" for c in value) or "\x7f" in value:
        raise InvalidInput(f"{what} cannot hold control characters")
    return value.strip()


def _stamp(moment: datetime | None) -> str | None:
    return None if moment is None else audit.format_timestamp(moment)


class Airlock:
    """The airlock over ``catalog``, keeping contents in ``root`` (outside every workspace).

    ``reviewers`` is how many distinct reviewers each item needs (never fewer than two);
    ``profile`` the disclosure policy the server-side check applies; ``limits`` what one
    check may use; ``max_item_bytes`` the largest file (or evidence) an item may be.
    """

    def __init__(
        self,
        catalog: Catalog,
        root: Path,
        *,
        reviewers: int = review.MIN_REVIEWERS,
        profile: str = "fr",
        limits: CheckLimits = DEFAULT_LIMITS,
        max_item_bytes: int = 20 * 1024 * 1024,
    ) -> None:
        self.catalog = catalog
        self.root = root
        self.store = ContentStore(root / "contents")
        self.pseudonyms = PseudonymCache(root / "pseudonyms", catalog.settings.home)
        self.needed = review.required_reviewers(reviewers)
        self.profile = profile
        self.limits = limits
        self.max_item_bytes = max_item_bytes
        (root / "work").mkdir(mode=0o700, exist_ok=True)

    # --- who may do what ---------------------------------------------------------------

    def _request(self, session: Session, request_id: object) -> ExportRequest:
        found = (
            session.get(ExportRequest, request_id, options=[selectinload(ExportRequest.items)])
            if isinstance(request_id, str)
            else None
        )
        if found is None:
            raise NotFound(f"no export request {request_id!r}")
        return found

    def _related(self, session: Session, caller: Caller, request: ExportRequest) -> set[Role]:
        """The caller's roles in the request's project, refused when they have none (or call
        from another project's workspace)."""
        roles = set(roles_of(session, request.project, caller.name))
        if caller.workspace is not None and caller.workspace != request.project.slug:
            raise PermissionDenied("this request belongs to another project than this workspace")
        if not roles and caller.name != request.requester:
            raise PermissionDenied("this request belongs to a project you are not a member of")
        return roles

    def _visible(self, session: Session, caller: Caller, request: ExportRequest) -> set[Role]:
        """The caller's roles, when they may see the request: its requester, the project's
        reviewers and leads."""
        roles = self._related(session, caller, request)
        if caller.name == request.requester:
            return roles
        if not roles & {Role.REVIEWER, Role.LEAD}:
            raise PermissionDenied(
                "a request is seen by its requester and the project's reviewers and leads"
            )
        if request.submitted_at is None:  # a draft is its requester's until submitted
            raise NotFound(f"no export request {request.id!r}")
        return roles

    def _as_requester(self, session: Session, caller: Caller, request: ExportRequest) -> None:
        self._visible(session, caller, request)
        if caller.name != request.requester:
            raise PermissionDenied("only the researcher who made this request may do this")
        check_submit_export(session, Actor(caller.name), request.project)

    def _as_reviewer(self, session: Session, caller: Caller, request: ExportRequest) -> None:
        self._related(session, caller, request)
        if caller.workspace is not None:
            raise PermissionDenied("requests are reviewed outside workspaces")
        check_review_export(session, Actor(caller.name), request.project, request.requester)

    def _record(
        self,
        session: Session,
        request: ExportRequest,
        actor: str,
        action: str,
        details: Mapping[str, Any] | None = None,
    ) -> audit.Recorded:
        """Record ``action`` on ``request`` in the audit chain, in the current transaction."""
        return audit.record(
            session,
            actor=actor,
            action=action,
            target=f"request:{request.id}",
            project=request.project.slug,
            details=details,
        )

    def _move(
        self,
        session: Session,
        request: ExportRequest,
        action: str,
        party: Party,
        actor: str,
        details: Mapping[str, Any] | None = None,
    ) -> audit.Recorded:
        moved = transition(Status(request.status), action, party)
        request.status = moved.target.value
        request.updated_at = utcnow()
        return self._record(
            session,
            request,
            actor,
            moved.event,
            details={"from": moved.source.value if moved.source else None, **(details or {})},
        )

    # --- the researcher ----------------------------------------------------------------

    def create(self, caller: Caller, project: object, title: object) -> dict[str, Any]:
        """A new draft request in ``project`` (the workspace's, when asked from one)."""
        title = _text(title, "the title", MAX_TEXT)
        if caller.workspace is not None:
            slug = caller.workspace
        elif isinstance(project, str) and project:
            slug = project
        else:
            raise InvalidInput("name the project the request belongs to")
        with self.catalog.write() as session:
            found = get_project(session, slug)
            check_submit_export(session, Actor(caller.name), found)
            transition(None, "create", Party.REQUESTER)
            request = ExportRequest(
                project=found,
                title=title,
                requester=caller.name,
                status=Status.DRAFT.value,
                from_workspace=caller.workspace is not None,
                provenance=self._provenance(session, found),
            )
            session.add(request)
            session.flush()
            self._record(
                session,
                request,
                caller.name,
                "request.create",
                {"title": title, "from_workspace": request.from_workspace},
            )
            return self._model(session, caller, request)

    def _provenance(self, session: Session, project: Project) -> dict[str, Any]:
        """What the project could use when the request was made: its legal basis, the
        dataset versions it could mount (with their content hashes and its copies'), and
        the workspace image the hub runs."""
        tz = self.catalog.settings.timezone
        copies = {
            c.dataset_version_id: c.content_hash
            for c in session.scalars(
                select(DatasetCopy).where(
                    DatasetCopy.project_id == project.id, DatasetCopy.removed_at.is_(None)
                )
            )
        }
        image = session.scalars(
            select(WorkspaceImage).order_by(WorkspaceImage.built_at.desc(), WorkspaceImage.id)
        ).first()
        return {
            "project": project.slug,
            "project_uid": project.uid,
            "legal_basis": project.legal_basis,
            "datasets": [
                {
                    "version": v.label,
                    "content_hash": v.content_hash,
                    "project_copy_hash": copies.get(v.id),
                }
                for v in mountable_versions(session, project.slug, tz=tz)
            ],
            "workspace_image": None
            if image is None
            else {"reference": image.reference, "content_hash": image.content_hash},
        }

    def add_item(
        self,
        caller: Caller,
        request_id: str,
        filename: object,
        data: bytes,
        *,
        evidence: bytes | None = None,
        justification: object = "",
    ) -> dict[str, Any]:
        """Add a file to a draft request, or a new version of one already there (same
        name): its check and decisions start again."""
        name = item_name(filename) if isinstance(filename, str) else item_name("")
        if name.endswith(EVIDENCE_SUFFIX):
            raise InvalidInput(
                f"{name!r} is an evidence sidecar: send it in the 'evidence' field of its output"
            )
        why = _text(justification, "the justification", MAX_COMMENT, required=False)
        for what, content in (("the file", data), ("the evidence", evidence or b"")):
            if len(content) > self.max_item_bytes:
                raise TooLarge(f"{what} is larger than {self.max_item_bytes:,} bytes")
        if evidence is not None and not Path(name).suffix:
            raise InvalidInput(
                f"{name!r} has no extension: evidence goes with a table such as 'counts.csv'"
            )
        if is_archive(data):
            raise InvalidInput(
                f"{name!r} is an archive: nothing is unpacked here; add the files it holds"
            )
        with self.catalog.write() as session:
            request = self._request(session, request_id)
            self._as_requester(session, caller, request)
            if request.status != Status.DRAFT.value:
                raise Conflict(f"files are added to a draft request; this one is {request.status}")
            upload = self.store.put(data)
            kept = self.store.put(evidence) if evidence is not None else None
            item = next((i for i in request.items if i.name == name), None)
            replaced = item is not None
            if item is None:
                item = ExportItem(name=name, upload_sha256=upload, upload_size=len(data))
                request.items.append(item)
            item.upload_sha256, item.upload_size = upload, len(data)
            item.evidence_sha256, item.justification = kept, why
            item.sha256 = item.size = item.kind = item.check_status = item.check = None
            item.added_at = request.updated_at = utcnow()
            session.flush()
            self._record(
                session,
                request,
                caller.name,
                "request.upload",
                details={
                    "item": item.id,
                    "name": name,
                    "sha256": upload,
                    "size": len(data),
                    "evidence_sha256": kept,
                    "justified": bool(why),
                    "replaced": replaced,
                },
            )
            return self._item_model(session, caller, request, item)

    def submit(self, caller: Caller, request_id: str) -> dict[str, Any]:
        """Submit a draft: it is then the system's turn, which checks it (:meth:`check`)."""
        with self.catalog.write() as session:
            request = self._request(session, request_id)
            self._as_requester(session, caller, request)
            if request.status == Status.DRAFT.value and not request.items:
                raise Conflict("this request has no file yet: add one before submitting")
            self._move(
                session, request, "submit", Party.REQUESTER, caller.name,
                {"items": len(request.items), "round": request.round},
            )  # fmt: skip
            request.submitted_at = utcnow()
            self._move(session, request, "check_start", Party.SYSTEM, SYSTEM)
            return self._model(session, caller, request)

    def withdraw(self, caller: Caller, request_id: str) -> dict[str, Any]:
        with self.catalog.write() as session:
            request = self._request(session, request_id)
            self._visible(session, caller, request)
            if caller.name != request.requester:
                raise PermissionDenied("only the researcher who made this request may withdraw it")
            self._move(session, request, "withdraw", Party.REQUESTER, caller.name)
            return self._model(session, caller, request)

    # --- the system: the automated check -----------------------------------------------

    def pending_checks(self) -> list[str]:
        """Requests whose check has not finished (after a restart: checked again)."""
        with self.catalog.read() as session:
            return list(
                session.scalars(
                    select(ExportRequest.id)
                    .where(ExportRequest.status == Status.CHECKING.value)
                    .order_by(ExportRequest.submitted_at)
                )
            )

    def check(self, request_id: str) -> str:
        """Run the automated check of a request in ``checking`` and record its report; the
        request is then in review. Returns the request's status afterwards."""
        with self._workspace() as work:
            with self.catalog.read() as session:
                request = self._request(session, request_id)
                if request.status != Status.CHECKING.value:
                    return request.status
                paths = self._materialise(work / "items", request.items)
                released = self._released_folders(session, request, work / "released")
                pseudonyms = self.pseudonyms.file_for(session, request.requester, work)
                checked_round = request.round
            run = run_check(
                paths,
                profile=self.profile,
                pseudonyms=pseudonyms,
                released=released,
                limits=self.limits,
                canonical_out=work / "canonical",
            )
            return self._record_check(request_id, checked_round, run, work / "canonical")

    @contextmanager
    def _workspace(self) -> Iterator[Path]:
        work = Path(tempfile.mkdtemp(prefix="check-", dir=self.root / "work"))
        try:
            yield work
        finally:
            shutil.rmtree(work, ignore_errors=True)

    def _materialise(self, folder: Path, items: Sequence[ExportItem]) -> list[Path]:
        folder.mkdir(parents=True)
        paths = []
        for item in items:
            path = folder / item.name
            path.write_bytes(self.store.get(item.upload_sha256))
            if item.evidence_sha256 is not None:  # beside it, as the checker looks for it
                sidecar = item.name[: -len(path.suffix)] + EVIDENCE_SUFFIX
                (folder / sidecar).write_bytes(self.store.get(item.evidence_sha256))
            paths.append(path)
        return paths

    def _released_folders(
        self, session: Session, request: ExportRequest, folder: Path
    ) -> list[Path]:
        """The project's released items and the checked items of its other open requests,
        each request in a folder: what differencing compares the request's tables with."""
        others = session.scalars(
            select(ExportRequest)
            .where(
                ExportRequest.project_id == request.project_id,
                ExportRequest.id != request.id,
                ExportRequest.status.in_([Status.RELEASED.value, *(s.value for s in OPEN)]),
            )
            .options(selectinload(ExportRequest.items))
            .order_by(ExportRequest.created_at)
        )
        folders = []
        for other in others:
            done = other.status == Status.RELEASED.value
            items = {
                i.name: i.sha256
                for i in other.items
                if i.sha256 is not None and (i.released or not done)
            }
            if not items:
                continue
            target = folder / other.id
            target.mkdir(parents=True)
            for name, digest in items.items():
                (target / name).write_bytes(self.store.get(digest))
            folders.append(target)
        return folders

    def _record_check(self, request_id: str, round_: int, run: CheckRun, out: Path) -> str:
        reports = {i["path"]: i for i in (run.report or {}).get("items", []) if isinstance(i, dict)}
        with self.catalog.write() as session:
            request = self._request(session, request_id)
            if request.status != Status.CHECKING.value or request.round != round_:
                log.info("check of request %s discarded: it is %s", request.id, request.status)
                return request.status
            for item in request.items:
                found = reports.get(item.name)
                if found is None:
                    reason = run.failure or "the check gave no report for this file"
                    found = {
                        "path": item.name, "kind": "other", "status": "fail", "sha256": None,
                        "notes": [], "children": [],
                        "rules": [{"rule": "check.run", "status": "fail", "summary": reason}],
                    }  # fmt: skip
                digest = found.get("sha256")
                canonical = out / digest if isinstance(digest, str) else None
                if canonical is not None and canonical.is_file():
                    data = canonical.read_bytes()
                    item.sha256, item.size = self.store.put(data), len(data)
                else:
                    item.sha256 = item.size = None
                item.kind, item.check_status, item.check = found["kind"], found["status"], found
            request.check_report = (
                None
                if run.report is None
                else {k: v for k, v in run.report.items() if k != "items"}
            )
            request.check_failure = run.failure or None
            self._move(
                session, request, "check_done", Party.SYSTEM, SYSTEM,
                {
                    "status": run.report["status"] if run.report else "fail",
                    "failure": run.failure or None,
                    "items": {i.name: i.check_status for i in request.items},
                },
            )  # fmt: skip
            return request.status

    # --- reviewers -----------------------------------------------------------------------

    @staticmethod
    def _this_round(request: ExportRequest, item: ExportItem) -> list[ExportReview]:
        """The decisions on ``item`` that count: those of the request's current round."""
        return [r for r in item.reviews if r.round == request.round]

    def _rule_item(self, request: ExportRequest, item: ExportItem) -> review.Item:
        votes = {
            r.reviewer: review.Vote(review.Decision(r.decision), r.exception, r.comment)
            for r in self._this_round(request, item)
        }
        status = CheckStatus(item.check_status) if item.check_status else CheckStatus.FAIL
        return review.Item(status, item.justification, votes)

    def decide(
        self,
        caller: Caller,
        request_id: str,
        item_id: object,
        decision: object,
        *,
        comment: object = "",
        exception: object = False,
    ) -> dict[str, Any]:
        """One reviewer's decision on one item (the two-person rule in
        :mod:`agoria_tre.airlock.review`); when every item is then rejected, the request is."""
        if decision not in ("approve", "reject"):
            raise InvalidInput("decision is 'approve' or 'reject'")
        if not isinstance(exception, bool):
            raise InvalidInput("exception is true or false")
        said = _text(comment, "the comment", MAX_COMMENT, required=False)
        with self.catalog.write() as session:
            request = self._request(session, request_id)
            self._as_reviewer(session, caller, request)
            item = next((i for i in request.items if i.id == item_id), None)
            if item is None:
                raise NotFound(f"no item {item_id!r} in this request")
            if request.status != Status.IN_REVIEW.value:
                raise Conflict(
                    f"items are decided while a request is in review; it is {request.status}"
                )
            cast = review.Vote(review.Decision(decision), exception, said)
            review.vote(
                self._rule_item(request, item), caller.name, cast,
                requester=request.requester, needed=self.needed,
            )  # fmt: skip
            if cast.decision is review.Decision.APPROVE and item.sha256 is None:
                raise Conflict("the check could not read this item: it cannot be approved")
            item.reviews.append(
                ExportReview(
                    round=request.round, reviewer=caller.name, decision=cast.decision.value,
                    exception=cast.exception, comment=said,
                )
            )  # fmt: skip
            request.updated_at = utcnow()
            session.flush()
            self._record(
                session,
                request,
                caller.name,
                "request.review",
                details={
                    "item": item.id,
                    "sha256": item.sha256,
                    "decision": cast.decision.value,
                    "exception": cast.exception,
                    "round": request.round,
                },
            )
            rules = [self._rule_item(request, i) for i in request.items]
            if review.all_rejected(rules, self.needed):
                self._move(session, request, "reject", Party.SYSTEM, SYSTEM)
            return self._model(session, caller, request)

    def return_to_requester(
        self, caller: Caller, request_id: str, comment: object
    ) -> dict[str, Any]:
        """Send a request back for changes: a draft again, in a new round (earlier decisions
        no longer count)."""
        said = _text(comment, "the comment", MAX_COMMENT)
        with self.catalog.write() as session:
            request = self._request(session, request_id)
            self._as_reviewer(session, caller, request)
            self._move(
                session, request, "return", Party.REVIEWER, caller.name, {"round": request.round}
            )
            request.round += 1
            request.return_comment = said
            return self._model(session, caller, request)

    def release(self, caller: Caller, request_id: str) -> dict[str, Any]:
        """Release the approved items: the zip and its ``release.json`` are built from the
        stored contents, each hash verified again, and recorded with the release event."""
        with self.catalog.write() as session:
            request = self._request(session, request_id)
            self._as_reviewer(session, caller, request)
            if request.status == Status.IN_REVIEW.value:
                why = review.may_release(
                    [self._rule_item(request, i) for i in request.items], self.needed
                )
                if why is not None:
                    raise Conflict(f"this request cannot be released yet: {why}")
            approved = [i for i in request.items if self._outcome(request, i) == "approved"]
            for item in approved:
                item.released = True
            recorded = self._move(
                session, request, "release", Party.REVIEWER, caller.name,
                {
                    "round": request.round,
                    "items": {i.name: i.sha256 for i in approved},
                    "withheld": len(request.items) - len(approved),
                },
            )  # fmt: skip
            request.released_at, request.released_by = utcnow(), caller.name
            request.release_seq = recorded.seq
            contents = {i.id: self.store.get(i.sha256 or "") for i in approved}
            described = packaging.manifest(
                request, approved, contents, self._decisions_of,
                released_at=request.released_at, audit_seq=recorded.seq,
            )  # fmt: skip
            archive = packaging.build(
                described, {i.name: contents[i.id] for i in approved}, request.released_at
            )
            request.release_sha256 = self.store.put(archive)
            return self._model(session, caller, request)

    def _decisions_of(self, request: ExportRequest, item: ExportItem) -> list[dict[str, Any]]:
        return [
            {
                "reviewer": r.reviewer,
                "decision": r.decision,
                "exception": r.exception,
                "comment": r.comment,
                "decided_at": _stamp(r.decided_at),
            }
            for r in self._this_round(request, item)
        ]

    def _outcome(self, request: ExportRequest, item: ExportItem) -> str:
        return review.outcome(self._rule_item(request, item), self.needed).value

    # --- reading ---------------------------------------------------------------------------

    def get(self, caller: Caller, request_id: str) -> dict[str, Any]:
        """A request as the caller may see it (recorded as a view)."""
        with self.catalog.write() as session:
            request = self._request(session, request_id)
            self._visible(session, caller, request)
            self._record(
                session,
                request,
                caller.name,
                "request.view",
            )
            return self._model(session, caller, request)

    def content(
        self, caller: Caller, request_id: str, item_id: str
    ) -> tuple[dict[str, Any], bytes]:
        """An item's checked (canonical) content, for the reviewers' pages only: to anyone
        else, before release, it would be a way out that no reviewer approved (its requester
        has the file in the workspace)."""
        with self.catalog.write() as session:
            request = self._request(session, request_id)
            if caller.name == request.requester:
                raise PermissionDenied(
                    "an item's content is shown to the project's reviewers; yours is in your"
                    " workspace, and leaves only in a release"
                )
            self._as_reviewer(session, caller, request)
            item = next((i for i in request.items if i.id == item_id), None)
            if item is None:
                raise NotFound(f"no item {item_id!r} in this request")
            if item.sha256 is None:
                raise Conflict("this item has no checked form to show")
            self._record(
                session,
                request,
                caller.name,
                "request.view",
                details={"item": item.id, "sha256": item.sha256},
            )
            return self._item_model(session, caller, request, item), self.store.get(item.sha256)

    def listing(
        self, caller: Caller, *, project: str | None = None, status: str | None = None
    ) -> list[dict[str, Any]]:
        """The requests the caller made, and those of projects they review or lead."""
        if status is not None and status not in {s.value for s in Status}:
            raise InvalidInput(f"unknown status {status!r}: one of {', '.join(Status)}")
        with self.catalog.read() as session:
            reviewed = select(Membership.project_id).where(
                Membership.username == caller.name,
                Membership.role.in_([Role.REVIEWER, Role.LEAD]),
            )
            query = (
                select(ExportRequest)
                .where(
                    (ExportRequest.requester == caller.name)
                    | (
                        ExportRequest.project_id.in_(reviewed)
                        & ExportRequest.submitted_at.is_not(None)
                    )
                )
                .options(selectinload(ExportRequest.items).selectinload(ExportItem.reviews))
                .order_by(ExportRequest.created_at.desc())
            )
            if caller.workspace is not None:
                project = caller.workspace
            if project is not None:
                query = query.join(Project).where(Project.slug == project)
            if status is not None:
                query = query.where(ExportRequest.status == status)
            return [self._summary(caller, r) for r in session.scalars(query)]

    def download(self, caller: Caller, request_id: str) -> Download:
        """The release zip, for the requester and the project's leads, once released."""
        with self.catalog.write() as session:
            request = self._request(session, request_id)
            roles = self._visible(session, caller, request)
            if caller.name != request.requester and Role.LEAD not in roles:
                raise PermissionDenied("a release is downloaded by its requester or a project lead")
            if caller.workspace is not None:
                raise PermissionDenied("releases are downloaded outside workspaces")
            if request.status != Status.RELEASED.value or request.release_sha256 is None:
                raise Conflict(f"nothing is released from this request: it is {request.status}")
            data = self.store.get(request.release_sha256)
            self._record(
                session,
                request,
                caller.name,
                "request.download",
                details={"sha256": request.release_sha256},
            )
            return Download(f"agoria-release-{request.id}.zip", data)

    def may_review(self, caller: Caller, request_id: str) -> bool:
        """Whether the caller may decide on this request and release it (for pages)."""
        with self.catalog.read() as session:
            try:
                self._as_reviewer(session, caller, self._request(session, request_id))
            except (PermissionDenied, NotFound):
                return False
        return True

    def may_download(self, caller: Caller, request_id: str) -> bool:
        """Whether the caller may download this request's release, once there is one."""
        with self.catalog.read() as session:
            try:
                request = self._request(session, request_id)
                roles = self._visible(session, caller, request)
            except (PermissionDenied, NotFound):
                return False
            return caller.workspace is None and (
                caller.name == request.requester or Role.LEAD in roles
            )

    # --- what callers see --------------------------------------------------------------

    def _summary(self, caller: Caller, request: ExportRequest) -> dict[str, Any]:
        in_review = request.status == Status.IN_REVIEW.value
        open_votes = [
            rule.votes
            for rule in (self._rule_item(request, i) for i in request.items)
            if in_review and len(rule.votes) < self.needed
        ]
        statuses = [i.check_status for i in request.items if i.check_status]
        return {
            "id": request.id,
            "project": request.project.slug,
            "title": request.title,
            "status": request.status,
            "requester": request.requester,
            "round": request.round,
            "created_at": _stamp(request.created_at),
            "submitted_at": _stamp(request.submitted_at),
            "updated_at": _stamp(request.updated_at),
            "items": len(request.items),
            "check_status": _worst(statuses) if statuses else None,
            "decisions_missing": sum(self.needed - len(votes) for votes in open_votes),
            "awaiting_me": caller.name != request.requester
            and any(caller.name not in votes for votes in open_votes),
        }

    def _model(self, session: Session, caller: Caller, request: ExportRequest) -> dict[str, Any]:
        model = self._summary(caller, request)
        model |= {
            "from_workspace": request.from_workspace,
            "return_comment": request.return_comment,
            "provenance": request.provenance,
            "check": None
            if request.check_report is None and request.check_failure is None
            else {"report": request.check_report, "failure": request.check_failure},
            "reviewers_needed": self.needed,
            "release": None
            if request.released_at is None
            else {
                "sha256": request.release_sha256,
                "released_at": _stamp(request.released_at),
                "released_by": request.released_by,
                "audit_seq": request.release_seq,
            },
            "items": [self._item_model(session, caller, request, i) for i in request.items],
        }
        return model

    def _item_model(
        self, session: Session, caller: Caller, request: ExportRequest, item: ExportItem
    ) -> dict[str, Any]:
        rule = self._rule_item(request, item)
        seen = review.visible_votes(rule, caller.name, self.needed)
        return {
            "id": item.id,
            "name": item.name,
            "sha256": item.sha256,
            "size": item.size,
            "upload_sha256": item.upload_sha256,
            "upload_size": item.upload_size,
            "evidence": item.evidence_sha256 is not None,
            "justification": item.justification,
            "kind": item.kind,
            "check": item.check,
            "outcome": None
            if request.status == Status.DRAFT.value
            else review.outcome(rule, self.needed).value,
            "released": item.released,
            "decisions": [d for d in self._decisions_of(request, item) if d["reviewer"] in seen],
            "decisions_missing": max(0, self.needed - len(rule.votes)),
        }


def _worst(statuses: Sequence[str]) -> str:
    return min(statuses, key=("fail", "review", "pass").index)


class TooLarge(InvalidInput):
    """An upload over the airlock's limit (HTTP 413)."""
