"""The workspace's side of the airlock: its REST API called with the server's own hub token.

Only the Jupyter server holds that token (``JUPYTERHUB_API_TOKEN``, which the hub scopes to
this workspace and the airlock); the browser calls the server's export routes and never
sees it. The airlock binds whatever this token sends to the workspace's project.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest

from agoria_tre.formdata import multipart
from agoria_tre.workspace.outgoing import Outgoing, Refused

log = logging.getLogger(__name__)
UNREACHABLE = "the airlock cannot be reached just now; nothing was sent, try again in a moment"


@dataclass(frozen=True)
class AirlockClient:
    url: str  # the service's root, ending in "/services/airlock/"
    token: str
    timeout: float = 600.0  # a submission answers once the airlock's check has run

    async def call(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        *,
        form: tuple[str, bytes] | None = None,
    ) -> Any:
        headers = {"Authorization": f"token {self.token}", "Accept": "application/json"}
        data: bytes | None = None
        if form is not None:
            headers["Content-Type"], data = form
        elif method != "GET":
            headers["Content-Type"] = "application/json"
            data = json.dumps(body or {}).encode()
        request = HTTPRequest(
            self.url + "api/" + path,
            method=method,
            headers=headers,
            body=data,
            request_timeout=self.timeout,
            follow_redirects=False,
        )
        try:  # with raise_error=False, only no answer at all raises (refused, timed out)
            response = await AsyncHTTPClient().fetch(request, raise_error=False)
        except (OSError, HTTPClientError) as exc:
            log.warning("airlock %s %s: %s", method, path, exc)
            raise Refused(502, "airlock_unreachable", UNREACHABLE) from exc
        try:
            answer = json.loads(response.body or b"null")
        except ValueError:
            answer = None
        if response.code >= 500 or (response.code >= 400 and not isinstance(answer, dict)):
            log.error("airlock %s %s answered %s", method, path, response.code)
            raise Refused(502, "airlock_error", "the airlock failed to answer; try again later")
        if response.code >= 400:
            raise Refused(
                response.code,
                str(answer.get("error", "refused")),
                str(answer.get("message", "the airlock refused")),
            )
        return answer

    async def create(self, project: str, title: str) -> dict[str, Any]:
        made: dict[str, Any] = await self.call(
            "POST", "requests", {"project": project, "title": title}
        )
        return made

    async def upload(self, request_id: str, item: Outgoing, justification: str) -> None:
        files = {"file": (item.name, item.data)}
        if item.evidence is not None:
            files["evidence"] = ("evidence.json", item.evidence)
        form = multipart({"justification": justification}, files)
        await self.call("POST", f"requests/{quote(request_id, safe='')}/items", form=form)

    async def action(self, request_id: str, action: str) -> dict[str, Any]:
        done: dict[str, Any] = await self.call(
            "POST", f"requests/{quote(request_id, safe='')}/{action}"
        )
        return done

    async def get(self, request_id: str) -> dict[str, Any]:
        found: dict[str, Any] = await self.call("GET", f"requests/{quote(request_id, safe='')}")
        return found

    async def listing(self, project: str) -> list[dict[str, Any]]:
        found = await self.call("GET", "requests?" + urlencode({"project": project}))
        requests: list[dict[str, Any]] = found["requests"]
        return requests
