"""Calling the airlock's REST API as a program does, with a hub API token, for tests and
benchmarks: JSON in and out, files as ``multipart/form-data``, every answer's status kept."""

from __future__ import annotations

import http.client
import json
import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from agoria_tre.formdata import multipart

PREFIX = "/services/airlock/"


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    headers: dict[str, str]

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass(frozen=True)
class AirlockClient:
    """The airlock behind ``public_url`` (the hub's proxy), called with ``token``."""

    public_url: str
    token: str | None

    def call(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        content_type: str = "application/json",
        headers: dict[str, str] | None = None,
    ) -> Answer:
        where = urlparse(self.public_url)
        connection = http.client.HTTPConnection(where.netloc, timeout=300)
        sent = {"Content-Type": content_type, **(headers or {})}
        if self.token is not None:
            sent["Authorization"] = f"token {self.token}"
        try:
            connection.request(method, PREFIX + path, body=body, headers=sent)
            response = connection.getresponse()
            headers = {k.lower(): v for k, v in response.getheaders()}
            return Answer(response.status, response.read(), headers)
        finally:
            connection.close()

    def post(self, path: str, payload: Any = None) -> Answer:
        body = None if payload is None else json.dumps(payload).encode()
        return self.call("POST", path, body)

    def get(self, path: str) -> Answer:
        return self.call("GET", path)

    def upload(
        self,
        request_id: str,
        name: str,
        data: bytes,
        *,
        evidence: bytes | None = None,
        justification: str = "",
    ) -> Answer:
        files = {"file": (name, data)}
        if evidence is not None:
            files["evidence"] = ("evidence.json", evidence)
        fields: dict[str, str | bytes] = {"justification": justification} if justification else {}
        if "\r" in name or "\n" in name:
            # A hostile caller sends what no browser would, a line break in the file name's
            # header included: multipart refuses to write one, so a stand-in is replaced.
            stand_in = f"stand-in-{secrets.token_hex(8)}"
            files["file"] = (stand_in, data)
            kind, body = multipart(fields, files)
            body = body.replace(stand_in.encode(), name.encode("utf-8", "surrogateescape"))
        else:
            kind, body = multipart(fields, files)
        return self.call("POST", f"api/requests/{request_id}/items", body, kind)

    def wait_until_up(self, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                if self.get("api/requests").status == 200:
                    return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError("the airlock did not answer")
            time.sleep(0.2)
