"""How the workspace's airlock client reads what comes back (workspace/airlock.py): the
airlock's refusals passed on with their words, and an airlock that is not there, that
breaks, or answers something that is not its API, each turned into one sentence that says
what happened to the request. The real airlock's answers are tried in
``tests/airlock/test_export_extension.py``; the failures here are those a healthy airlock
never gives, so a small server on loopback gives them."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Iterator
from typing import Any, ClassVar

import pytest
from tornado.httpserver import HTTPServer
from tornado.testing import bind_unused_port
from tornado.web import Application, RequestHandler

from agoria_tre.workspace.airlock import UNREACHABLE, AirlockClient
from agoria_tre.workspace.outgoing import Outgoing, Refused, Source


class Answers(RequestHandler):
    """``/services/airlock/api/<case>``: the answer each case names; what was asked is kept."""

    seen: ClassVar[list[dict[str, Any]]] = []

    async def _answer(self, case: str) -> None:
        Answers.seen.append(
            {
                "method": self.request.method,
                "path": self.request.path,
                "query": self.request.query,
                "authorization": self.request.headers.get("Authorization"),
                "type": self.request.headers.get("Content-Type", ""),
                "body": self.request.body,
            }
        )
        if case == "broken":
            self.set_status(500)
            self.finish("<html>Internal error</html>")
        elif case == "html-refusal":
            self.set_status(404)
            self.finish("<html>no such page</html>")
        elif case == "refused":
            self.set_status(409)
            self.finish({"error": "wrong_status", "message": "the request is not a draft"})
        elif case == "bare-refusal":
            self.set_status(403)
            self.finish({})
        elif case == "slow":
            await asyncio.sleep(5)  # longer than the client waits
            self.finish({})
        elif case.startswith("requests"):
            listing = case == "requests" and self.request.method == "GET"
            self.finish({"requests": [{"id": "r1"}]} if listing else {"id": "r1"})
        else:
            self.finish(json.dumps(None))

    async def get(self, case: str) -> None:
        await self._answer(case)

    async def post(self, case: str) -> None:
        await self._answer(case)


@pytest.fixture
def airlock(jp_asyncio_loop: asyncio.AbstractEventLoop) -> Iterator[AirlockClient]:
    """The answering server, on the tests' event loop (pytest-jupyter's)."""
    Answers.seen = []
    sock, port = bind_unused_port()

    async def serve() -> HTTPServer:
        server = HTTPServer(Application([(r"/services/airlock/api/(.*)", Answers)]))
        server.add_socket(sock)
        return server

    server = jp_asyncio_loop.run_until_complete(serve())
    yield AirlockClient(f"http://127.0.0.1:{port}/services/airlock/", "workspace-token")
    server.stop()
    jp_asyncio_loop.run_until_complete(server.close_all_connections())
    sock.close()


async def test_calls_carry_the_servers_token_and_json(airlock: AirlockClient) -> None:
    assert await airlock.listing("cardio") == [{"id": "r1"}]
    assert await airlock.create("cardio", "Table 2") == {"id": "r1"}
    assert await airlock.get("r1") == {"id": "r1"}
    assert await airlock.action("r1", "submit") == {"id": "r1"}
    listing, made, got, acted = Answers.seen
    assert (got["method"], got["path"]) == ("GET", "/services/airlock/api/requests/r1")
    assert (acted["method"], acted["path"]) == ("POST", "/services/airlock/api/requests/r1/submit")
    assert (listing["method"], listing["query"]) == ("GET", "project=cardio")
    assert listing["authorization"] == made["authorization"] == "token workspace-token"
    assert made["type"] == "application/json"
    assert json.loads(made["body"]) == {"project": "cardio", "title": "Table 2"}


async def test_an_item_is_uploaded_with_its_evidence_and_justification(
    airlock: AirlockClient,
) -> None:
    item = Outgoing(Source("t.csv"), "t.csv", b"a,b\n1,2\n", "t.evidence.json", b"{}")
    await airlock.upload("r/1", item, "needed for the paper")
    (sent,) = Answers.seen
    assert sent["path"] == "/services/airlock/api/requests/r%2F1/items"
    assert str(sent["type"]).startswith("multipart/form-data; boundary=")
    body: bytes = sent["body"]
    for part in (b'name="file"; filename="t.csv"', b"a,b\n1,2\n", b'name="evidence"',
                 b"needed for the paper"):  # fmt: skip
        assert part in body
    bare = Outgoing(Source("n.ipynb"), "n.ipynb", b"{}", None, None)
    await airlock.upload("r1", bare, "")
    assert b'name="evidence"' not in Answers.seen[-1]["body"]


async def test_the_airlocks_refusal_is_passed_on_with_its_words(airlock: AirlockClient) -> None:
    with pytest.raises(Refused) as refused:
        await airlock.call("POST", "refused", {})
    assert (refused.value.status, refused.value.code) == (409, "wrong_status")
    assert refused.value.message == "the request is not a draft"
    with pytest.raises(Refused) as bare:
        await airlock.call("GET", "bare-refusal")
    assert (bare.value.status, bare.value.code, bare.value.message) == (
        403,
        "refused",
        "the airlock refused",
    )


@pytest.mark.parametrize("case", ["broken", "html-refusal"])
async def test_an_answer_that_is_not_the_airlocks_api_is_an_airlock_error(
    airlock: AirlockClient, case: str
) -> None:
    with pytest.raises(Refused) as refused:
        await airlock.call("GET", case)
    assert (refused.value.status, refused.value.code) == (502, "airlock_error")
    assert "try again later" in refused.value.message


async def test_an_airlock_that_does_not_answer_means_nothing_was_sent() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, never listening: the connection is refused
        client = AirlockClient(f"http://127.0.0.1:{port}/services/airlock/", "t")
        with pytest.raises(Refused) as refused:
            await client.action("r1", "submit")
    assert (refused.value.status, refused.value.code) == (502, "airlock_unreachable")
    assert refused.value.message == UNREACHABLE
    assert "nothing was sent" in UNREACHABLE


async def test_an_airlock_that_does_not_answer_in_time_means_nothing_was_sent(
    airlock: AirlockClient,
) -> None:
    slow = AirlockClient(airlock.url, airlock.token, timeout=0.5)
    with pytest.raises(Refused) as refused:
        await slow.call("GET", "slow")
    assert (refused.value.status, refused.value.code) == (502, "airlock_unreachable")
