"""Driving a running platform the way a researcher's browser does, for tests and benchmarks:
the hub's REST API (start, stop, list servers) and a kernel in a workspace (run code, read
what it printed), through the proxy like any client."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass
from typing import Any


class HubError(Exception):
    def __init__(self, status: int, body: str) -> None:
        super().__init__(f"{status}: {body[:300]}")
        self.status = status
        self.body = body


@dataclass(frozen=True)
class Hub:
    """The hub behind ``public_url``, called with ``token``."""

    public_url: str  # http://127.0.0.1:8000
    token: str

    def request(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(  # noqa: S310  (the platform's own URL)
            self.public_url + path,
            data=data,
            method=method,
            headers={"Authorization": f"token {self.token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
                raw = response.read()
        except urllib.error.HTTPError as exc:
            raise HubError(exc.code, exc.read().decode(errors="replace")) from None
        return json.loads(raw) if raw else None

    def user(self, name: str) -> dict[str, Any]:
        found: dict[str, Any] = self.request("GET", f"/hub/api/users/{_q(name)}")
        return found

    def ensure_user(self, name: str) -> None:
        try:
            self.user(name)
        except HubError as exc:
            if exc.status != 404:
                raise
            self.request("POST", f"/hub/api/users/{_q(name)}")

    def token_for(self, name: str, note: str = "test") -> str:
        """A new API token of user ``name`` (made if missing), as they would make one."""
        self.ensure_user(name)
        made: dict[str, Any] = self.request(
            "POST", f"/hub/api/users/{_q(name)}/tokens", {"note": note}
        )
        return str(made["token"])

    def server(self, user: str, project: str) -> dict[str, Any] | None:
        servers: dict[str, dict[str, Any]] = self.user(user).get("servers") or {}
        return servers.get(project)

    def start(self, user: str, project: str, timeout: float = 180.0) -> float:
        """Start a workspace and wait until the hub says it is ready; returns the seconds
        from the request to ready."""
        began = time.perf_counter()
        self.request("POST", f"/hub/api/users/{_q(user)}/servers/{_q(project)}")
        while True:
            server = self.server(user, project)
            if server and server.get("ready"):
                return time.perf_counter() - began
            if server is None and time.perf_counter() - began > 2:
                raise HubError(500, f"workspace {project} of {user} failed to start")
            if time.perf_counter() - began > timeout:
                raise HubError(504, f"workspace {project} of {user} not ready in {timeout} s")
            time.sleep(0.05)

    def start_failure(self, user: str, project: str) -> str:
        """Ask for a workspace that should be refused; returns the hub's message."""
        try:
            self.request("POST", f"/hub/api/users/{_q(user)}/servers/{_q(project)}")
        except HubError as exc:
            return exc.body
        deadline = time.perf_counter() + 60
        while time.perf_counter() < deadline:
            server = self.server(user, project)
            if server is None:
                return self._last_failure(user, project)
            if server.get("ready"):
                raise AssertionError(f"workspace {project} of {user} started")
            time.sleep(0.1)
        raise AssertionError(f"workspace {project} of {user} neither started nor failed")

    def start_watching(self, user: str, project: str) -> list[dict[str, Any]]:
        """Start a workspace and return the progress events its spawn page shows, read
        while the spawn runs (the hub's API answers a start only once it is ready, or after
        ten seconds)."""
        import threading

        answered: list[BaseException | None] = []

        def ask() -> None:
            try:
                self.request("POST", f"/hub/api/users/{_q(user)}/servers/{_q(project)}")
                answered.append(None)
            except HubError as exc:
                answered.append(exc)

        asking = threading.Thread(target=ask)
        asking.start()
        try:
            while not (self.server(user, project) or {}).get("pending") and not answered:
                time.sleep(0.02)
            events = self.progress(user, project)
        finally:
            asking.join()
        if answered and answered[0] is not None:
            raise answered[0]
        return events

    def progress(self, user: str, project: str) -> list[dict[str, Any]]:
        """The spawn's progress events, as the spawn page shows them, until it ends."""
        url = self.public_url + f"/hub/api/users/{_q(user)}/servers/{_q(project)}/progress"
        request = urllib.request.Request(  # noqa: S310
            url, headers={"Authorization": f"token {self.token}"}
        )
        events = []
        with urllib.request.urlopen(request, timeout=180) as response:  # noqa: S310
            for raw in response:
                line = raw.decode().strip()
                if line.startswith("data:"):
                    event = json.loads(line[5:])
                    events.append(event)
                    if event.get("ready") or event.get("failed"):
                        break
        return events

    def _last_failure(self, user: str, project: str) -> str:
        progress = self.public_url + f"/hub/api/users/{_q(user)}/servers/{_q(project)}/progress"
        request = urllib.request.Request(  # noqa: S310
            progress, headers={"Authorization": f"token {self.token}"}
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                return str(response.read().decode())
        except urllib.error.HTTPError as exc:
            return exc.read().decode(errors="replace")

    def stop(self, user: str, project: str, timeout: float = 60.0) -> float:
        began = time.perf_counter()
        try:
            self.request("DELETE", f"/hub/api/users/{_q(user)}/servers/{_q(project)}")
        except HubError as exc:
            if exc.status != 404:
                raise
        while self.server(user, project) is not None:
            if time.perf_counter() - began > timeout:
                raise HubError(504, f"workspace {project} of {user} did not stop")
            time.sleep(0.05)
        return time.perf_counter() - began

    def run(self, user: str, project: str, code: str, timeout: float = 120.0) -> str:
        """Run ``code`` in a new kernel of the workspace; returns what it printed.
        Raises :class:`KernelError` with the traceback when the code raised."""
        return asyncio.run(self._run(user, project, code, timeout))

    async def _run(self, user: str, project: str, code: str, timeout: float) -> str:
        from tornado.httpclient import HTTPRequest
        from tornado.websocket import websocket_connect

        base = f"{self.public_url}/user/{_q(user)}/{_q(project)}"
        kernel = self.request("POST", f"/user/{_q(user)}/{_q(project)}/api/kernels", {})
        ws_url = base.replace("http", "ws", 1) + f"/api/kernels/{kernel['id']}/channels"
        connection = await websocket_connect(
            HTTPRequest(ws_url, headers={"Authorization": f"token {self.token}"}),
            max_message_size=64 << 20,
        )
        msg_id = uuid.uuid4().hex
        await connection.write_message(
            json.dumps(
                {
                    "header": {
                        "msg_id": msg_id,
                        "msg_type": "execute_request",
                        "username": user,
                        "session": uuid.uuid4().hex,
                        "version": "5.3",
                    },
                    "parent_header": {},
                    "metadata": {},
                    "content": {"code": code, "silent": False, "stop_on_error": True},
                    "channel": "shell",
                    "buffers": [],
                }
            )
        )
        printed: list[str] = []
        error: str | None = None
        try:
            while True:
                raw = await asyncio.wait_for(connection.read_message(), timeout)
                if raw is None:
                    raise KernelError("the kernel's connection closed")
                message = json.loads(raw)
                if message.get("parent_header", {}).get("msg_id") != msg_id:
                    continue
                kind, content = message["msg_type"], message["content"]
                if kind == "stream":
                    printed.append(content["text"])
                elif kind == "error":
                    error = "\n".join(content.get("traceback", [])) or content.get("evalue", "")
                elif kind == "status" and content.get("execution_state") == "idle":
                    break
        finally:
            connection.close()
            with contextlib.suppress(Exception):  # let the closing handshake finish
                await asyncio.wait_for(connection.read_message(), 5)
            self.request("DELETE", f"/user/{_q(user)}/{_q(project)}/api/kernels/{kernel['id']}")
        if error is not None:
            raise KernelError(error)
        return "".join(printed)


class KernelError(Exception):
    """Code run in a workspace raised."""


def _q(value: str) -> str:
    return urllib.parse.quote(value, safe="")
