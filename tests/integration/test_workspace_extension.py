"""The workspace's server extension, in a real Jupyter server: download routes answer 403,
the rest of the server works, and a server configured to need it fails without it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from agoria_tre.testing.platform import free_port

TOKEN = "workspace-test-token"
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def get(url: str) -> tuple[int, str]:
    request = urllib.request.Request(url, headers={"Authorization": f"token {TOKEN}"})  # noqa: S310
    try:
        with OPENER.open(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def server(root: Path, extension: str, port: int) -> subprocess.Popen[bytes]:
    """A Jupyter server configured as the workspace image configures it."""
    (root / "notes.csv").write_text("a,b\n1,2\n")
    config = root / ".jupyter"
    config.mkdir()
    (config / "jupyter_server_config.json").write_text(
        json.dumps(
            {
                "ServerApp": {
                    "jpserver_extensions": {extension: True},
                    "reraise_server_extension_failures": True,
                }
            }
        )
    )
    return subprocess.Popen(
        [
            sys.executable, "-m", "jupyter_server", f"--port={port}", "--ip=127.0.0.1",
            f"--ServerApp.root_dir={root}", f"--IdentityProvider.token={TOKEN}",
            "--ServerApp.open_browser=False", "--allow-root",
        ],
        env={**os.environ, "JUPYTER_CONFIG_DIR": str(config), "HOME": str(root)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )  # fmt: skip


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    process = server(tmp_path_factory.mktemp("workspace"), "agoria_tre.workspace", port)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if get(f"{url}/api")[0] == 200:
                    break
            except OSError:  # not listening yet
                pass
            assert process.poll() is None, process.stderr.read() if process.stderr else b""
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=20)
        if process.stderr is not None:
            process.stderr.close()


@pytest.mark.parametrize(
    "route",
    [
        "/files/notes.csv",
        "/files/notes.csv?download=1",
        "/view/notes.csv",
        "/nbconvert/html/notes.csv?download=true",
        "/api/nbconvert",
    ],
)
def test_download_routes_are_refused(base_url: str, route: str) -> None:
    status, body = get(base_url + route)
    assert status == 403
    assert json.loads(body)["message"].startswith("Downloads are disabled")


def test_the_rest_of_the_server_works(base_url: str) -> None:
    status, body = get(f"{base_url}/api/contents")
    assert status == 200
    assert "notes.csv" in [item["name"] for item in json.loads(body)["content"]]


def test_a_server_that_cannot_load_it_does_not_start(tmp_path: Path) -> None:
    process = server(tmp_path, "agoria_tre.no_such_extension", free_port())
    _, errors = process.communicate(timeout=60)
    assert process.returncode != 0
    assert b"agoria_tre.no_such_extension" in errors
