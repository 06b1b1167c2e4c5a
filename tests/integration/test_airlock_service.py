"""The airlock's business (airlock/service.py) on a real catalog, SQLite and PostgreSQL: a
request's whole life, each forbidden move refused with nothing changed, blind review, the
release package and the audit chain."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from agoria_tre import audit
from agoria_tre.airlock.service import Airlock, Caller, TooLarge
from agoria_tre.catalog.db import Catalog
from agoria_tre.catalog.models import AuditEvent, ExportRequest, Role
from agoria_tre.catalog.projects import remove_member
from agoria_tre.disclosure.evidence import EVIDENCE_SCHEMA
from agoria_tre.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from tests.factories import make_project

ALICE, BOB = Caller("alice"), Caller("bob")  # researchers
RITA, SAM, TOM = Caller("rita"), Caller("sam"), Caller("tom")  # reviewers
LEA = Caller("lea")  # lead
SAFE = b"sex,n\nF,40\nM,30\n"
SMALL = b"sex,n\nF,40\nM,3\n"


@pytest.fixture
def airlock(catalog: Catalog, tmp_path: Path) -> Airlock:
    make_project(
        catalog,
        "cardio",
        {
            "alice": [Role.RESEARCHER, Role.REVIEWER],
            "bob": [Role.RESEARCHER],
            "rita": [Role.REVIEWER],
            "sam": [Role.REVIEWER],
            "tom": [Role.REVIEWER],
            "lea": [Role.LEAD],
        },
    )
    make_project(catalog, "onco", {"olga": [Role.RESEARCHER, Role.REVIEWER]})
    return Airlock(catalog, tmp_path / "airlock")


def chain_state(catalog: Catalog) -> tuple[int, Any]:
    with catalog.read() as session:
        events = session.scalar(select(func.count()).select_from(AuditEvent)) or 0
        rows = session.scalars(select(ExportRequest).order_by(ExportRequest.id)).all()
        state: list[tuple[Any, ...]] = [
            (r.id, r.status, r.round, len(r.items), r.release_sha256) for r in rows
        ]
        for r in rows:
            state += [(i.id, len(i.reviews), i.sha256) for i in r.items]
    return events, state


def submitted(airlock: Airlock, files: dict[str, bytes], by: Caller = ALICE) -> dict[str, Any]:
    made = airlock.create(by, "cardio", "Deaths by sex")
    for name, data in files.items():
        airlock.add_item(by, made["id"], name, data)
    airlock.submit(by, made["id"])
    assert airlock.check(made["id"]) == "in_review"
    return airlock.get(by, made["id"])


def verified(catalog: Catalog) -> None:
    with catalog.snapshot() as session:
        result = audit.verify(session, catalog.anchor_path, settle_seconds=0)
    assert result.ok, result.problem


def test_a_request_goes_from_draft_to_a_verified_release(airlock: Airlock) -> None:
    made = airlock.create(ALICE, "cardio", "Deaths by sex")
    assert (made["status"], made["project"], made["requester"]) == ("draft", "cardio", "alice")
    assert made["provenance"]["legal_basis"] == "MR-004"
    item = airlock.add_item(ALICE, made["id"], "deaths.csv", b"sex;n\r\nF;40\r\nM;30\r\n")
    assert item["upload_sha256"] == hashlib.sha256(b"sex;n\r\nF;40\r\nM;30\r\n").hexdigest()
    assert airlock.submit(ALICE, made["id"])["status"] == "checking"
    assert airlock.pending_checks() == [made["id"]]
    assert airlock.check(made["id"]) == "in_review"
    seen = airlock.get(RITA, made["id"])
    [checked] = seen["items"]
    assert checked["check"]["status"] == "pass"
    assert checked["sha256"] == hashlib.sha256(SAFE).hexdigest()  # the canonical form
    airlock.decide(RITA, made["id"], checked["id"], "approve", comment="fine")
    airlock.decide(SAM, made["id"], checked["id"], "approve")
    released = airlock.release(RITA, made["id"])
    assert released["status"] == "released"
    package = airlock.download(ALICE, made["id"])
    assert airlock.download(LEA, made["id"]).data == package.data
    with zipfile.ZipFile(io.BytesIO(package.data)) as archive:
        assert sorted(archive.namelist()) == ["outputs/deaths.csv", "release.json"]
        described = json.loads(archive.read("release.json"))
        content = archive.read("outputs/deaths.csv")
    assert content == SAFE
    [listed] = described["items"]
    assert listed["sha256"] == hashlib.sha256(content).hexdigest()
    assert [d["reviewer"] for d in listed["decisions"]] == ["rita", "sam"]
    assert described["release"]["audit_seq"] == released["release"]["audit_seq"]
    assert described["provenance"]["legal_basis"] == "MR-004"
    assert described["checker"]["name"] == "agoria-tre"
    assert described["policy"]["name"] == "fr"
    assert hashlib.sha256(package.data).hexdigest() == released["release"]["sha256"]
    verified(airlock.catalog)
    with airlock.catalog.read() as session:
        actions = session.scalars(
            select(AuditEvent.action).where(AuditEvent.target == f"request:{made['id']}")
        ).all()
    assert actions[:5] == [
        "request.create", "request.upload", "request.submit", "request.check", "request.checked",
    ]  # fmt: skip
    assert {"request.review", "request.release", "request.download", "request.view"} <= set(actions)


@pytest.mark.parametrize(
    ("who", "error"),
    [
        (ALICE, PermissionDenied),  # the requester, though a reviewer too
        (Caller("olga"), PermissionDenied),  # a reviewer of another project
        (BOB, PermissionDenied),  # a researcher of the project
        (LEA, PermissionDenied),  # a lead is no reviewer
        (Caller("rita", workspace="cardio"), PermissionDenied),  # from a workspace
    ],
)
def test_only_reviewers_who_did_not_ask_decide(airlock: Airlock, who: Caller, error: type) -> None:
    request = submitted(airlock, {"deaths.csv": SAFE})
    before = chain_state(airlock.catalog)
    with pytest.raises(error):
        airlock.decide(who, request["id"], request["items"][0]["id"], "approve")
    assert chain_state(airlock.catalog) == before


def test_a_reviewer_decides_an_item_once_and_a_third_is_not_needed(airlock: Airlock) -> None:
    request = submitted(airlock, {"deaths.csv": SAFE})
    item = request["items"][0]["id"]
    airlock.decide(RITA, request["id"], item, "approve")
    before = chain_state(airlock.catalog)
    with pytest.raises(Conflict, match="already decided"):
        airlock.decide(RITA, request["id"], item, "approve")
    assert chain_state(airlock.catalog) == before
    airlock.decide(SAM, request["id"], item, "approve")
    with pytest.raises(Conflict, match="already has its 2 decisions"):
        airlock.decide(TOM, request["id"], item, "reject")


def test_decisions_are_blind_until_both_are_made(airlock: Airlock) -> None:
    request = submitted(airlock, {"deaths.csv": SAFE})
    item = request["items"][0]["id"]
    airlock.decide(RITA, request["id"], item, "approve")
    assert [d["reviewer"] for d in airlock.get(RITA, request["id"])["items"][0]["decisions"]] == [
        "rita"
    ]
    assert airlock.get(SAM, request["id"])["items"][0]["decisions"] == []
    assert airlock.get(ALICE, request["id"])["items"][0]["decisions"] == []
    airlock.decide(SAM, request["id"], item, "reject")
    shown = airlock.get(ALICE, request["id"])["items"][0]
    assert [d["decision"] for d in shown["decisions"]] == ["approve", "reject"]
    assert shown["outcome"] == "conflicted"


def test_nothing_is_downloaded_before_release(airlock: Airlock) -> None:
    request = submitted(airlock, {"deaths.csv": SAFE})
    before = chain_state(airlock.catalog)
    with pytest.raises(Conflict, match="nothing is released"):
        airlock.download(ALICE, request["id"])
    with pytest.raises(PermissionDenied):
        airlock.download(RITA, request["id"])
    assert chain_state(airlock.catalog) == before


def test_a_request_with_an_undecided_item_is_not_released(airlock: Airlock) -> None:
    request = submitted(airlock, {"deaths.csv": SAFE, "other.csv": b"age,n\n40,12\n50,15\n"})
    first = request["items"][0]["id"]
    airlock.decide(RITA, request["id"], first, "approve")
    airlock.decide(SAM, request["id"], first, "approve")
    before = chain_state(airlock.catalog)
    with pytest.raises(Conflict, match="1 item without all 2 decisions"):
        airlock.release(RITA, request["id"])
    assert chain_state(airlock.catalog) == before


def test_a_failed_item_is_approved_only_as_a_justified_exception(airlock: Airlock) -> None:
    request = submitted(airlock, {"small.csv": SMALL})
    item = request["items"][0]
    assert item["check"]["status"] == "fail"
    before = chain_state(airlock.catalog)
    with pytest.raises(Conflict, match="no justification"):
        airlock.decide(RITA, request["id"], item["id"], "approve", exception=True)
    assert chain_state(airlock.catalog) == before
    airlock.return_to_requester(RITA, request["id"], "justify the small cell, or suppress it")
    airlock.add_item(ALICE, request["id"], "small.csv", SMALL, justification="3 is a public figure")
    airlock.submit(ALICE, request["id"])
    airlock.check(request["id"])
    with pytest.raises(InvalidInput, match="explicitly as an exception"):
        airlock.decide(RITA, request["id"], item["id"], "approve")
    airlock.decide(RITA, request["id"], item["id"], "approve", exception=True)
    airlock.decide(SAM, request["id"], item["id"], "approve", exception=True)
    assert airlock.release(SAM, request["id"])["status"] == "released"


def test_returning_a_request_resets_its_decisions(airlock: Airlock) -> None:
    request = submitted(airlock, {"deaths.csv": SAFE})
    item = request["items"][0]["id"]
    airlock.decide(RITA, request["id"], item, "approve")
    returned = airlock.return_to_requester(SAM, request["id"], "add the totals")
    assert (returned["status"], returned["round"], returned["return_comment"]) == (
        "draft", 2, "add the totals",
    )  # fmt: skip
    airlock.submit(ALICE, request["id"])
    airlock.check(request["id"])
    again = airlock.get(RITA, request["id"])["items"][0]
    assert (again["decisions"], again["decisions_missing"]) == ([], 2)
    airlock.decide(RITA, request["id"], item, "approve")  # a new round: decided again


def test_every_item_rejected_rejects_the_request(airlock: Airlock) -> None:
    request = submitted(airlock, {"deaths.csv": SAFE})
    item = request["items"][0]["id"]
    airlock.decide(RITA, request["id"], item, "reject")
    assert airlock.decide(SAM, request["id"], item, "reject")["status"] == "rejected"
    with pytest.raises(Conflict):
        airlock.release(RITA, request["id"])


def test_the_requester_withdraws_before_release_only(airlock: Airlock) -> None:
    request = submitted(airlock, {"deaths.csv": SAFE})
    with pytest.raises(PermissionDenied):
        airlock.withdraw(BOB, request["id"])
    assert airlock.withdraw(ALICE, request["id"])["status"] == "withdrawn"
    with pytest.raises(Conflict, match="final"):
        airlock.withdraw(ALICE, request["id"])


def test_a_workspace_request_belongs_to_the_workspace_project(airlock: Airlock) -> None:
    made = airlock.create(Caller("alice", workspace="cardio"), "onco", "t")
    assert (made["project"], made["from_workspace"]) == ("cardio", True)
    with pytest.raises(PermissionDenied):  # not from another project's workspace
        airlock.get(Caller("alice", workspace="other"), made["id"])
    with pytest.raises(PermissionDenied):  # not a researcher of onco
        airlock.create(ALICE, "onco", "t")
    with pytest.raises(NotFound):
        airlock.create(ALICE, "nowhere", "t")
    with pytest.raises(InvalidInput, match="name the project"):
        airlock.create(ALICE, None, "t")


def test_a_removed_member_loses_access_at_once(airlock: Airlock) -> None:
    request = submitted(airlock, {"deaths.csv": SAFE})
    with airlock.catalog.write() as session:
        remove_member(session, slug="cardio", username="rita", role=Role.REVIEWER, actor="admin")
    with pytest.raises(PermissionDenied):
        airlock.get(RITA, request["id"])
    with pytest.raises(PermissionDenied):
        airlock.decide(RITA, request["id"], request["items"][0]["id"], "approve")


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("../etc/passwd", "is a path"),
        ("/etc/passwd", "is a path"),
        ("a\x00b.csv", "control characters"),
        ("t.evidence.json", "evidence sidecar"),
        ("", "needs a name"),
    ],
)
def test_file_names_are_names(airlock: Airlock, name: str, message: str) -> None:
    made = airlock.create(ALICE, "cardio", "t")
    before = chain_state(airlock.catalog)
    with pytest.raises(InvalidInput, match=message):
        airlock.add_item(ALICE, made["id"], name, SAFE)
    assert chain_state(airlock.catalog) == before


@pytest.mark.parametrize(
    "data",
    [
        b"PK\x03\x04" + bytes(100),  # zip (a bomb or not)
        b"\x1f\x8b\x08" + bytes(40),  # gzip
        bytes(257) + b"ustar" + bytes(250),  # tar
    ],
)
def test_archives_are_refused_unopened(airlock: Airlock, data: bytes) -> None:
    made = airlock.create(ALICE, "cardio", "t")
    with pytest.raises(InvalidInput, match="is an archive"):
        airlock.add_item(ALICE, made["id"], "outputs.csv", data)


def test_inputs_are_refused_with_a_reason(airlock: Airlock) -> None:
    with pytest.raises(InvalidInput, match="title is required"):
        airlock.create(ALICE, "cardio", " ")
    with pytest.raises(InvalidInput, match="must be text"):
        airlock.create(ALICE, "cardio", 3)
    made = airlock.create(ALICE, "cardio", "t")
    with pytest.raises(Conflict, match="no file yet"):
        airlock.submit(ALICE, made["id"])
    small = Airlock(airlock.catalog, airlock.root, max_item_bytes=10)
    with pytest.raises(TooLarge):
        small.add_item(ALICE, made["id"], "t.csv", SAFE)
    with pytest.raises(NotFound):
        airlock.get(ALICE, "nope")
    with pytest.raises(InvalidInput, match="unknown status"):
        airlock.listing(ALICE, status="lost")
    airlock.add_item(ALICE, made["id"], "t.csv", SAFE)
    airlock.submit(ALICE, made["id"])
    with pytest.raises(Conflict, match="draft request"):
        airlock.add_item(ALICE, made["id"], "u.csv", SAFE)
    airlock.check(made["id"])
    with pytest.raises(InvalidInput, match="'approve' or 'reject'"):
        airlock.decide(RITA, made["id"], "x", "maybe")
    with pytest.raises(NotFound):
        airlock.decide(RITA, made["id"], "x", "approve")
    with pytest.raises(InvalidInput, match="comment is required"):
        airlock.return_to_requester(RITA, made["id"], "")


def test_a_check_interrupted_by_a_restart_is_run_again(airlock: Airlock) -> None:
    made = airlock.create(ALICE, "cardio", "t")
    airlock.add_item(ALICE, made["id"], "t.csv", SAFE)
    airlock.submit(ALICE, made["id"])
    restarted = Airlock(airlock.catalog, airlock.root)
    assert restarted.pending_checks() == [made["id"]]
    assert restarted.check(made["id"]) == "in_review"
    assert restarted.check(made["id"]) == "in_review"  # checked once
    assert restarted.pending_checks() == []


def test_tables_are_compared_with_the_projects_released_ones(airlock: Airlock) -> None:
    first = submitted(airlock, {"all.csv": b"sex,n\nF,40\nM,30\n"})
    item = first["items"][0]["id"]
    airlock.decide(RITA, first["id"], item, "approve")
    airlock.decide(SAM, first["id"], item, "approve")
    airlock.release(RITA, first["id"])
    second = submitted(airlock, {"most.csv": b"sex,n\nF,38\nM,30\n"}, by=BOB)
    [found] = [r for r in second["items"][0]["check"]["rules"] if r["rule"] == "differencing"]
    assert found["status"] == "review"
    assert f"released:{first['id']}/all.csv" in found["summary"]


def test_the_listing_holds_what_the_caller_made_or_reviews(airlock: Airlock) -> None:
    request = submitted(airlock, {"deaths.csv": SAFE})
    airlock.create(BOB, "cardio", "bob's draft")
    assert [r["id"] for r in airlock.listing(ALICE)] == [request["id"]]
    queue = airlock.listing(RITA, status="in_review")
    assert [(r["id"], r["decisions_missing"], r["awaiting_me"]) for r in queue] == [
        (request["id"], 2, True)
    ]
    assert airlock.listing(Caller("olga")) == []
    assert len(airlock.listing(LEA, project="cardio")) == 1  # drafts are their makers'


def test_evidence_feeds_the_check_and_never_leaves(airlock: Airlock) -> None:
    made = airlock.create(ALICE, "cardio", "t")
    evidence = json.dumps(
        {
            "schema": EVIDENCE_SCHEMA, "output": "costs.csv", "kind": "magnitude",
            "statistic": "sum", "unit": "patient", "label_columns": 1,
            "units": [[20, 30], [15, 25]], "totals": [[100.0, 300.0], [90.0, 250.0]],
            "top": [[[10.0, 9.0], [20.0, 15.0]], [[10.0, 9.0], [20.0, 15.0]]],
        }
    ).encode()  # fmt: skip
    costs = b"sex,A,B\nF,100,300\nM,90,250\n"
    added = airlock.add_item(ALICE, made["id"], "costs.csv", costs, evidence=evidence)
    assert added["evidence"] is True
    with pytest.raises(InvalidInput, match="has no extension"):
        airlock.add_item(ALICE, made["id"], "README", b"text", evidence=evidence)
    airlock.submit(ALICE, made["id"])
    airlock.check(made["id"])
    [checked] = airlock.get(RITA, made["id"])["items"]
    dominance = next(r for r in checked["check"]["rules"] if r["rule"] == "dominance")
    assert (dominance["status"], dominance["asserted"]) == ("pass", True)  # from the evidence
    item = checked["id"]
    airlock.decide(RITA, made["id"], item, "approve")
    airlock.decide(SAM, made["id"], item, "approve")
    airlock.release(RITA, made["id"])
    with zipfile.ZipFile(io.BytesIO(airlock.download(ALICE, made["id"]).data)) as archive:
        assert archive.namelist() == ["outputs/costs.csv", "release.json"]
        [entry] = json.loads(archive.read("release.json"))["items"]
    assert entry["evidence_sha256"] == hashlib.sha256(evidence).hexdigest()


def test_a_check_finished_after_a_withdrawal_is_discarded(airlock: Airlock) -> None:
    made = airlock.create(ALICE, "cardio", "t")
    airlock.add_item(ALICE, made["id"], "t.csv", SAFE)
    airlock.submit(ALICE, made["id"])
    airlock.withdraw(ALICE, made["id"])
    assert airlock.check(made["id"]) == "withdrawn"  # not checked: it left the queue
    # A check already running when the request was withdrawn: its results are dropped.
    from agoria_tre.airlock.checking import CheckRun

    assert airlock._record_check(made["id"], 1, CheckRun(None, "late"), airlock.root) == "withdrawn"
    with airlock.catalog.read() as session:
        found = session.get(ExportRequest, made["id"])
        assert found is not None
        assert (found.check_report, found.check_failure) == (None, None)


def test_a_check_that_cannot_finish_fails_every_item(airlock: Airlock) -> None:
    from agoria_tre.airlock.checking import CheckLimits

    hurried = Airlock(airlock.catalog, airlock.root, limits=CheckLimits(wall_seconds=0.01))
    made = hurried.create(ALICE, "cardio", "t")
    hurried.add_item(ALICE, made["id"], "t.csv", SAFE)
    hurried.submit(ALICE, made["id"])
    assert hurried.check(made["id"]) == "in_review"
    seen = hurried.get(RITA, made["id"])
    [item] = seen["items"]
    assert seen["check"]["failure"] == "the check took longer than 0.01 s"
    assert item["check"]["rules"][0]["rule"] == "check.run"
    assert (item["check"]["status"], item["sha256"]) == ("fail", None)
    with pytest.raises(Conflict, match="no justification"):
        hurried.decide(RITA, made["id"], item["id"], "approve", exception=True)
    hurried.return_to_requester(RITA, made["id"], "please justify")
    hurried.add_item(ALICE, made["id"], "t.csv", SAFE, justification="it is safe")
    with pytest.raises(Conflict, match="no checked form"):
        hurried.content(RITA, made["id"], item["id"])
    hurried.submit(ALICE, made["id"])
    hurried.check(made["id"])
    with pytest.raises(Conflict, match="could not read this item"):
        hurried.decide(RITA, made["id"], item["id"], "approve", exception=True)


def test_contents_downloads_and_page_rights(airlock: Airlock) -> None:
    request = submitted(airlock, {"deaths.csv": SAFE})
    item = request["items"][0]["id"]
    shown, data = airlock.content(RITA, request["id"], item)
    assert (shown["name"], data) == ("deaths.csv", SAFE)
    for unreviewed in (ALICE, LEA, Caller("rita", workspace="cardio")):  # before a release,
        with pytest.raises(PermissionDenied):  # a way out that no reviewer approved
            airlock.content(unreviewed, request["id"], item)
    with pytest.raises(NotFound):
        airlock.content(RITA, request["id"], "nope")
    assert airlock.may_review(RITA, request["id"])
    assert not airlock.may_review(ALICE, request["id"])  # her own request
    assert not airlock.may_review(RITA, "nope")
    assert airlock.may_download(LEA, request["id"])
    assert not airlock.may_download(RITA, request["id"])
    assert not airlock.may_download(Caller("olga"), request["id"])
    airlock.decide(RITA, request["id"], item, "approve")
    airlock.decide(SAM, request["id"], item, "approve")
    airlock.release(SAM, request["id"])
    with pytest.raises(PermissionDenied, match="outside workspaces"):
        airlock.download(Caller("alice", workspace="cardio"), request["id"])
