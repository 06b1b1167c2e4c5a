"""Random sequences of the airlock's actions by random members (hypothesis' stateful
testing) on a real catalog and content store, with the real server-side check. After every
step: no item has left without two distinct approvals by reviewers who did not make the
request (a failed item only as a justified exception), the audit chain verifies, and every
stored content and release has the hash it is recorded under."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import shutil
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import select

from agoria_tre import audit
from agoria_tre.airlock.service import Airlock, Caller
from agoria_tre.catalog.db import Catalog
from agoria_tre.catalog.migrate import initialise
from agoria_tre.catalog.models import ExportRequest, Role
from agoria_tre.config import Settings
from agoria_tre.errors import AgoriaError
from tests.factories import make_project

RELEASED: list[str] = []  # requests the runs released
USERS = ["alice", "bob", "rita", "sam", "lea", "olga"]
MEMBERS = {
    "alice": [Role.RESEARCHER, Role.REVIEWER],
    "bob": [Role.RESEARCHER],
    "rita": [Role.REVIEWER],
    "sam": [Role.REVIEWER, Role.RESEARCHER],
    "lea": [Role.LEAD],
}
FILES = {
    "deaths.csv": b"sex,n\nF,40\nM,30\n",
    "small.csv": b"sex,n\nF,40\nM,3\n",
    "notes.txt": b"The cohort is described in the protocol.\n",
}


class AirlockMachine(RuleBasedStateMachine):
    requests = Bundle("requests")

    def __init__(self) -> None:
        super().__init__()
        self.folder = Path(tempfile.mkdtemp(prefix="airlock-stateful-"))
        env = {"AGORIA_HOME": str(self.folder / "home"), "AGORIA_TIMEZONE": "Europe/Paris"}
        self.catalog = Catalog(Settings.from_env(env))
        initialise(self.catalog, actor="platform-setup")
        make_project(self.catalog, "cardio", MEMBERS)
        make_project(self.catalog, "onco", {"olga": [Role.RESEARCHER, Role.REVIEWER]})
        self.airlock = Airlock(self.catalog, self.folder / "airlock")

    def teardown(self) -> None:
        self.catalog.dispose()
        shutil.rmtree(self.folder, ignore_errors=True)

    def attempt(self, action: Callable[[], object]) -> None:
        with contextlib.suppress(AgoriaError):  # a refusal: the invariants check it changed
            action()  # nothing that should not have

    @initialize(target=requests)
    def a_request_in_review(self) -> str:
        """Every run starts with one request waiting for its reviewers."""
        return str(self.create("bob", ["deaths.csv", "small.csv"], justified=True, submit=True))

    @rule(
        target=requests,
        user=st.sampled_from(["alice", "bob", "sam", "olga"]),
        names=st.lists(st.sampled_from(sorted(FILES)), max_size=3, unique=True),
        justified=st.booleans(),
        submit=st.booleans(),
    )
    def create(self, user: str, names: list[str], justified: bool, submit: bool) -> str:
        """A researcher's request in their own project, with files, submitted or not."""
        made = str(
            self.airlock.create(Caller(user), "onco" if user == "olga" else "cardio", "t")["id"]
        )
        why = "a public figure" if justified else ""
        for name in names:
            self.airlock.add_item(Caller(user), made, name, FILES[name], justification=why)
        if submit and names:
            self.submit(made, user)
        return made

    @rule(user=st.sampled_from(USERS), project=st.sampled_from(["cardio", "onco", "none"]))
    def create_anywhere(self, user: str, project: str) -> None:
        self.attempt(lambda: self.airlock.create(Caller(user), project, "t"))

    @rule(
        request=requests,
        user=st.sampled_from(USERS),
        name=st.sampled_from(sorted(FILES)),
        justified=st.booleans(),
    )
    def upload(self, request: str, user: str, name: str, justified: bool) -> None:
        why = "a public figure" if justified else ""
        self.attempt(
            lambda: self.airlock.add_item(
                Caller(user), request, name, FILES[name], justification=why
            )
        )

    @rule(request=requests, user=st.sampled_from(USERS))
    def submit(self, request: str, user: str) -> None:
        self.attempt(lambda: self.airlock.submit(Caller(user), request))
        if request in self.airlock.pending_checks():
            self.airlock.check(request)

    @rule(
        request=requests,
        user=st.sampled_from(USERS),
        index=st.integers(0, 2),
        decision=st.sampled_from(["approve", "reject"]),
        exception=st.booleans(),
    )
    def decide(self, request: str, user: str, index: int, decision: str, exception: bool) -> None:
        def act() -> None:
            items = self.airlock.get(Caller("lea"), request)["items"]
            item = items[index % len(items)]["id"] if items else "none"
            self.airlock.decide(Caller(user), request, item, decision, exception=exception)

        self.attempt(act)

    @rule(request=requests, decision=st.sampled_from(["approve", "reject"]))
    def two_reviewers_decide_everything(self, request: str, decision: str) -> None:
        """The path to a release, which single random decisions seldom take."""

        def act() -> None:
            for item in self.airlock.get(Caller("lea"), request)["items"]:
                failed = (item["check"] or {}).get("status") == "fail"
                for reviewer in ("rita", "sam", "alice"):
                    with contextlib.suppress(AgoriaError):
                        self.airlock.decide(
                            Caller(reviewer), request, item["id"], decision, exception=failed
                        )

        self.attempt(act)

    @rule(request=requests, decision=st.sampled_from(["approve", "reject"]))
    def reviewed_and_released(self, request: str, decision: str) -> None:
        self.two_reviewers_decide_everything(request, decision)
        self.release(request, "rita")

    @rule(request=requests, user=st.sampled_from(USERS))
    def send_back(self, request: str, user: str) -> None:
        self.attempt(lambda: self.airlock.return_to_requester(Caller(user), request, "change"))

    @rule(request=requests, user=st.sampled_from(USERS))
    def release(self, request: str, user: str) -> None:
        self.attempt(lambda: self.airlock.release(Caller(user), request))
        with self.catalog.read() as session:
            found = session.get(ExportRequest, request)
            if found is not None and found.status == "released":
                RELEASED.append(request)

    @rule(request=requests, user=st.sampled_from(USERS))
    def withdraw(self, request: str, user: str) -> None:
        self.attempt(lambda: self.airlock.withdraw(Caller(user), request))

    @rule(request=requests, user=st.sampled_from(USERS))
    def download(self, request: str, user: str) -> None:
        self.attempt(lambda: self.airlock.download(Caller(user), request))

    @invariant()
    def nothing_leaves_without_two_other_approvals(self) -> None:
        with self.catalog.read() as session:
            for request in session.scalars(select(ExportRequest)):
                released = [i for i in request.items if i.released]
                if released:
                    assert request.status == "released"
                for item in released:
                    approvals = {
                        r.reviewer
                        for r in item.reviews
                        if r.round == request.round and r.decision == "approve"
                    }
                    assert len(approvals) >= 2
                    assert request.requester not in approvals
                    assert all(MEMBERS.get(a) and Role.REVIEWER in MEMBERS[a] for a in approvals)
                    if item.check_status == "fail":
                        assert item.justification
                        assert all(r.exception for r in item.reviews if r.round == request.round)

    @invariant()
    def the_audit_chain_verifies(self) -> None:
        with self.catalog.snapshot() as session:
            result = audit.verify(session, self.catalog.anchor_path, settle_seconds=0)
        assert result.ok, result.problem

    @invariant()
    def stored_contents_match_their_hashes(self) -> None:
        with self.catalog.read() as session:
            for request in session.scalars(select(ExportRequest)):
                for item in request.items:
                    for digest in (item.upload_sha256, item.sha256, item.evidence_sha256):
                        if digest is not None:
                            data = self.airlock.store.path(digest).read_bytes()
                            assert hashlib.sha256(data).hexdigest() == digest
                if request.release_sha256 is not None:
                    package = self.airlock.store.get(request.release_sha256)
                    with zipfile.ZipFile(io.BytesIO(package)) as archive:
                        described = json.loads(archive.read("release.json"))
                        for entry in described["items"]:
                            content = archive.read(entry["path"])
                            assert hashlib.sha256(content).hexdigest() == entry["sha256"]
                    assert {e["name"] for e in described["items"]} == {
                        i.name for i in request.items if i.released
                    }


def test_airlock_actions_in_any_order() -> None:
    RELEASED.clear()
    run_state_machine_as_test(
        AirlockMachine,
        settings=settings(
            max_examples=25,
            stateful_step_count=30,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        ),
    )
    assert RELEASED, "no sequence reached a release: the invariants were not put to the test"
