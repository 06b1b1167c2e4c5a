"""A browser's login through the hub's OpenID Connect flow, with the standard library:
cookies kept, redirects followed one by one, the provider's sign-in form filled in."""

from __future__ import annotations

import html.parser
import http.cookiejar
import json
import os
import shutil
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).parent


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None  # followed by hand, one hop at a time


class _Form(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.action: str | None = None
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "form" and self.action is None:
            self.action = found.get("action") or ""
        elif tag == "input" and found.get("name"):
            self.fields[str(found["name"])] = found.get("value") or ""


@dataclass
class Page:
    url: str
    status: int
    body: str


class Browser:
    def __init__(self) -> None:
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.ProxyHandler({}),
            urllib.request.HTTPCookieProcessor(self.jar),
            _NoRedirect,
        )

    def get(self, url: str, data: bytes | None = None) -> Page:
        for _ in range(20):
            request = urllib.request.Request(url, data=data)  # noqa: S310
            try:
                with self.opener.open(request, timeout=30) as response:
                    return Page(url, response.status, response.read().decode())
            except urllib.error.HTTPError as exc:
                if exc.code not in (301, 302, 303, 307, 308):
                    return Page(url, exc.code, exc.read().decode())
                url = urllib.parse.urljoin(url, exc.headers["Location"])
                if exc.code in (302, 303):
                    data = None
        raise AssertionError("too many redirects")

    def sign_in(self, hub_url: str, user: str, password: str) -> Page:
        """From the hub's login, through the provider's sign-in form, to where it ends."""
        page = self.get(f"{hub_url}/hub/oauth_login")
        assert "/interaction/" in page.url, page
        form = _Form()
        form.feed(page.body)
        assert form.action is not None
        form.fields.update(login=user, password=password)
        return self.get(
            urllib.parse.urljoin(page.url, form.action),
            urllib.parse.urlencode(form.fields).encode(),
        )

    def cookies(self) -> set[str]:
        return {c.name for c in self.jar}


@contextmanager
def provider(
    port: int, redirect_uri: str, users: dict[str, str], client_secret: str
) -> Iterator[str]:
    """The local OpenID provider on 127.0.0.1:``port``; yields its issuer URL."""
    modules = Path(os.environ.get("AGORIA_TEST_NODE", "")) / "node_modules" / "oidc-provider"
    if not modules.is_dir():
        raise AssertionError("oidc-provider is not installed: scripts/test.sh installs it")
    script = modules.parent.parent / "oidc_provider.mjs"
    shutil.copyfile(HERE / "oidc_provider.mjs", script)  # node resolves imports beside it
    env = {
        "PATH": os.environ["PATH"],
        "PORT": str(port),
        "CLIENT_ID": "agoria-hub",
        "CLIENT_SECRET": client_secret,
        "REDIRECT_URIS": redirect_uri,
        "USERS_JSON": json.dumps({u: {"password": p} for u, p in users.items()}),
    }
    process = subprocess.Popen(
        ["node", str(script)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    issuer = f"http://127.0.0.1:{port}"
    try:
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        deadline = time.monotonic() + 60
        while True:
            try:
                with opener.open(f"{issuer}/.well-known/openid-configuration", timeout=2):
                    break
            except OSError:
                assert process.poll() is None, process.stdout.read() if process.stdout else ""
                assert time.monotonic() < deadline, "the OpenID provider did not start"
                time.sleep(0.1)
        yield issuer
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()
