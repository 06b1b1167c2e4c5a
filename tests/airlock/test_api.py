"""The airlock's REST API, through the hub's proxy, with the members' own hub tokens: the
whole life of a request and each forbidden move, refused with its status and nothing
changed; uploads refused by name, kind and size."""

from __future__ import annotations

import hashlib
import io
import json
import socket
import zipfile
from typing import Any

import pytest

from agoria_tre.testing.airlock import AirlockClient
from agoria_tre.testing.platform import TrialPlatform

pytestmark = pytest.mark.workspaces

SAFE = b"sex,n\nF,40\nM,30\n"
SMALL = b"sex,n\nF,40\nM,3\n"


def ok(answer: Any, status: int = 200) -> Any:
    assert answer.status == status, answer.body[:500]
    return answer.json


def refused(answer: Any, status: int) -> str:
    assert answer.status == status, answer.body[:500]
    body = answer.json
    assert set(body) == {"error", "message"}, body
    return str(body["message"])


def in_review(as_user: dict[str, AirlockClient], files: dict[str, bytes]) -> dict[str, Any]:
    alice = as_user["alice"]
    made = ok(alice.post("api/requests", {"project": "cardio", "title": "Deaths by sex"}), 201)
    for name, data in files.items():
        ok(alice.upload(made["id"], name, data), 201)
    submitted = ok(alice.post(f"api/requests/{made['id']}/submit"))
    assert submitted["status"] == "in_review"
    return dict(submitted)


def snapshot(as_user: dict[str, AirlockClient], request_id: str) -> Any:
    seen = ok(as_user["lea"].get(f"api/requests/{request_id}"))
    return {k: v for k, v in seen.items() if k != "updated_at"} | {
        "items": [{k: v for k, v in i.items() if k != "decisions"} for i in seen["items"]]
    }


def test_a_request_is_released_after_two_reviewers_approve(
    airlock_platform: TrialPlatform, as_user: dict[str, AirlockClient]
) -> None:
    request = in_review(as_user, {"deaths.csv": SAFE, "small.csv": SMALL})
    items = {i["name"]: i for i in request["items"]}
    assert items["deaths.csv"]["check"]["status"] == "pass"
    assert items["small.csv"]["check"]["status"] == "fail"
    for reviewer in ("rita", "sam"):
        path = f"api/requests/{request['id']}/items/"
        ok(
            as_user[reviewer].post(
                path + f"{items['deaths.csv']['id']}/review", {"decision": "approve"}
            )
        )
        ok(
            as_user[reviewer].post(
                path + f"{items['small.csv']['id']}/review", {"decision": "reject"}
            )
        )
    released = ok(as_user["rita"].post(f"api/requests/{request['id']}/release"))
    assert released["status"] == "released"
    download = as_user["alice"].get(f"api/requests/{request['id']}/release.zip")
    assert download.status == 200
    assert download.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(download.body)) as archive:
        names = sorted(archive.namelist())
        described = json.loads(archive.read("release.json"))
        files = {n: archive.read(n) for n in names if n != "release.json"}
    assert names == ["outputs/deaths.csv", "release.json"]  # the rejected item never leaves
    for entry in described["items"]:
        assert hashlib.sha256(files[entry["path"]]).hexdigest() == entry["sha256"]
    assert described["withheld"] == 1
    assert described["provenance"]["datasets"][0]["version"] == "patients@1"
    assert described["provenance"]["workspace_image"]["content_hash"]
    assert {d["reviewer"] for d in described["items"][0]["decisions"]} == {"rita", "sam"}
    verify = airlock_platform.cli("audit", "verify")
    assert verify.returncode == 0, verify.stdout + verify.stderr


@pytest.mark.parametrize(
    ("who", "decision", "status"),
    [
        ("alice", {"decision": "approve"}, 403),  # self-review, though alice reviews cardio
        ("olga", {"decision": "approve"}, 403),  # a reviewer of another project
        ("nobody", {"decision": "approve"}, 403),  # no project at all
        ("bob", {"decision": "approve"}, 403),  # a researcher of the project
        ("rita", {"decision": "maybe"}, 400),
    ],
)
def test_only_the_projects_other_reviewers_decide(
    as_user: dict[str, AirlockClient], who: str, decision: dict[str, str], status: int
) -> None:
    request = in_review(as_user, {"deaths.csv": SAFE})
    before = snapshot(as_user, request["id"])
    item = request["items"][0]["id"]
    refused(
        as_user[who].post(f"api/requests/{request['id']}/items/{item}/review", decision), status
    )
    assert snapshot(as_user, request["id"]) == before


def test_a_reviewer_decides_once_and_nothing_leaves_undecided(
    as_user: dict[str, AirlockClient],
) -> None:
    request = in_review(as_user, {"deaths.csv": SAFE, "other.csv": b"age,n\n40,12\n50,15\n"})
    first, second = (i["id"] for i in request["items"])
    review = f"api/requests/{request['id']}/items/{{}}/review"
    ok(as_user["rita"].post(review.format(first), {"decision": "approve"}))
    before = snapshot(as_user, request["id"])
    assert "already decided" in refused(
        as_user["rita"].post(review.format(first), {"decision": "approve"}), 409
    )
    ok(as_user["sam"].post(review.format(first), {"decision": "approve"}))
    before = snapshot(as_user, request["id"])
    assert "without all 2 decisions" in refused(
        as_user["rita"].post(f"api/requests/{request['id']}/release"), 409
    )
    refused(as_user["alice"].get(f"api/requests/{request['id']}/release.zip"), 409)
    assert snapshot(as_user, request["id"]) == before
    assert second


def test_a_failed_item_needs_a_justified_exception(as_user: dict[str, AirlockClient]) -> None:
    request = in_review(as_user, {"small.csv": SMALL})
    item = request["items"][0]["id"]
    before = snapshot(as_user, request["id"])
    answer = as_user["rita"].post(
        f"api/requests/{request['id']}/items/{item}/review",
        {"decision": "approve", "exception": True},
    )
    assert "no justification" in refused(answer, 409)
    assert snapshot(as_user, request["id"]) == before


def test_a_researcher_cannot_download_before_release(as_user: dict[str, AirlockClient]) -> None:
    request = in_review(as_user, {"deaths.csv": SAFE})
    refused(as_user["alice"].get(f"api/requests/{request['id']}/release.zip"), 409)
    refused(as_user["rita"].get(f"api/requests/{request['id']}/release.zip"), 403)


def test_decisions_are_blind(as_user: dict[str, AirlockClient]) -> None:
    request = in_review(as_user, {"deaths.csv": SAFE})
    item = request["items"][0]["id"]
    ok(
        as_user["rita"].post(
            f"api/requests/{request['id']}/items/{item}/review",
            {"decision": "reject", "comment": "no"},
        )
    )
    assert ok(as_user["sam"].get(f"api/requests/{request['id']}"))["items"][0]["decisions"] == []
    mine = ok(as_user["rita"].get(f"api/requests/{request['id']}"))["items"][0]["decisions"]
    assert [(d["reviewer"], d["decision"]) for d in mine] == [("rita", "reject")]


def test_the_listing_filters_by_project_and_status(as_user: dict[str, AirlockClient]) -> None:
    request = in_review(as_user, {"deaths.csv": SAFE})
    listed = ok(as_user["rita"].get("api/requests?project=cardio&status=in_review"))["requests"]
    assert request["id"] in [r["id"] for r in listed]
    assert all(r["status"] == "in_review" for r in listed)
    assert ok(as_user["olga"].get("api/requests?project=cardio"))["requests"] == []
    refused(as_user["rita"].get("api/requests?status=lost"), 400)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("../escape.csv", "is a path"),
        ("/etc/passwd", "is a path"),
        ("nul\x00.csv", "cannot be read"),  # refused by the HTTP parser already
        ("new\nline.csv", "cannot be read"),
        ("tab\t.csv", "control characters"),
        ("..", "not a file name"),
    ],
)
def test_file_names_are_names(as_user: dict[str, AirlockClient], name: str, message: str) -> None:
    alice = as_user["alice"]
    made = ok(alice.post("api/requests", {"project": "cardio", "title": "t"}), 201)
    assert message in refused(alice.upload(made["id"], name, SAFE), 400)
    assert ok(alice.get(f"api/requests/{made['id']}"))["items"] == []


def test_an_archive_is_refused_unopened(as_user: dict[str, AirlockClient]) -> None:
    alice = as_user["alice"]
    made = ok(alice.post("api/requests", {"project": "cardio", "title": "t"}), 201)
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("zeros.csv", bytes(50_000_000))  # 50 MB of zeros in a few dozen KB
    assert "archive" in refused(alice.upload(made["id"], "outputs.zip", bomb.getvalue()), 400)


def test_a_huge_upload_is_refused_before_it_is_read(
    airlock_platform: TrialPlatform, tokens: dict[str, str]
) -> None:
    """Asked of the service itself: the proxy in front sends a request on only with its
    first bytes of body, and may answer 503 when the service closes the connection on it."""
    alice = AirlockClient(airlock_platform.public_url, tokens["alice"])
    made = ok(alice.post("api/requests", {"project": "cardio", "title": "t"}), 201)
    port = airlock_platform.airlock_port
    with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
        head = (
            f"POST /services/airlock/api/requests/{made['id']}/items HTTP/1.1\r\n"
            f"Host: 127.0.0.1:{port}\r\nAuthorization: token {tokens['alice']}\r\n"
            "Content-Type: multipart/form-data; boundary=x\r\n"
            f"Content-Length: {2 * 1024**3}\r\n\r\n"
        )
        sock.sendall(head.encode())  # 2 GB announced: the answer comes before any of it
        answer = sock.recv(65536).decode(errors="replace")
    assert answer.startswith("HTTP/1.1 413"), answer[:300]
    assert '"error": "too_large"' in answer
    assert ok(alice.get(f"api/requests/{made['id']}"))["items"] == []


def test_bodies_are_checked(as_user: dict[str, AirlockClient]) -> None:
    alice = as_user["alice"]
    refused(alice.call("POST", "api/requests", b"{not json"), 400)
    refused(alice.call("POST", "api/requests", b"[1]"), 400)
    refused(alice.post("api/requests", {"project": "cardio"}), 400)
    refused(alice.post("api/requests", {"project": "onco", "title": "t"}), 403)
    refused(alice.post("api/requests", {"project": "nowhere", "title": "t"}), 404)
    made = ok(alice.post("api/requests", {"project": "cardio", "title": "t"}), 201)
    refused(alice.call("POST", f"api/requests/{made['id']}/items", b"x", "text/plain"), 400)
    refused(alice.post(f"api/requests/{made['id']}/submit"), 409)  # no file yet
    refused(alice.get("api/requests/nope"), 404)
    refused(alice.get("api/no-such-route"), 404)
    refused(alice.call("DELETE", "api/requests"), 405)


def test_the_openapi_description_is_served(as_user: dict[str, AirlockClient]) -> None:
    described = ok(as_user["alice"].get("api/openapi.json"))
    assert described["openapi"].startswith("3.")
    assert "/api/requests/{request_id}/release.zip" in described["paths"]


def test_a_token_without_access_to_the_airlock_is_refused(
    airlock_platform: TrialPlatform, tokens: dict[str, str]
) -> None:
    hub = airlock_platform.hub
    narrow = hub.request(
        "POST",
        "/hub/api/users/alice/tokens",
        {"note": "narrow", "scopes": ["read:users:name!user"]},
    )["token"]
    client = AirlockClient(airlock_platform.public_url, narrow)
    assert "log in" in refused(client.get("api/requests"), 401)
    with pytest.raises(AssertionError, match="did not answer"):
        client.wait_until_up(timeout=0.5)


def test_evidence_may_come_as_a_field_and_fields_are_utf8(
    as_user: dict[str, AirlockClient],
) -> None:
    from agoria_tre.formdata import multipart

    alice = as_user["alice"]
    made = ok(alice.post("api/requests", {"project": "cardio", "title": "t"}), 201)
    kind, body = multipart({"evidence": "{}"}, {"file": ("t.csv", SAFE)})
    item = ok(alice.call("POST", f"api/requests/{made['id']}/items", body, kind), 201)
    assert item["evidence"] is True
    as_file = ok(alice.upload(made["id"], "u.csv", SAFE, evidence=b"{}"), 201)
    assert as_file["evidence"] is True
    kind, body = multipart({"justification": b"\xff"}, {"file": ("t.csv", SAFE)})
    bad = alice.call("POST", f"api/requests/{made['id']}/items", body, kind)
    assert "not UTF-8" in refused(bad, 400)
