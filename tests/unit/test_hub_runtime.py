"""The embedded container runtime's configuration, and the refusal to adopt a runtime the
platform did not start."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from agoria_tre.errors import ConfigurationError
from agoria_tre.hub import runtime


def test_the_configuration_is_written_once_and_owner_only(tmp_path: Path) -> None:
    conf = runtime.write_conf(tmp_path / "run")
    assert conf.read_text() == runtime.CONTAINERS_CONF
    assert (tmp_path / "run").stat().st_mode & 0o777 == 0o700
    assert 'runtime = "runc"' in runtime.CONTAINERS_CONF
    assert 'network_backend = "netavark"' in runtime.CONTAINERS_CONF
    before = conf.stat().st_mtime_ns
    assert runtime.write_conf(tmp_path / "run") == conf
    assert conf.stat().st_mtime_ns == before  # unchanged content is not rewritten
    conf.write_text("tampered")
    runtime.write_conf(tmp_path / "run")
    assert conf.read_text() == runtime.CONTAINERS_CONF
    assert runtime.podman_env(conf)["CONTAINERS_CONF"] == str(conf)


@pytest.fixture
def foreign_socket(tmp_path: Path) -> Iterator[Path]:
    """Something answering HTTP on the platform's runtime socket, started by someone else."""
    path = tmp_path / "run" / "podman.sock"
    path.parent.mkdir(mode=0o700)
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(path))
    server.listen()

    def answer() -> None:
        while True:
            try:
                connection, _ = server.accept()
            except OSError:
                return
            with connection:
                connection.recv(1024)
                connection.sendall(b"HTTP/1.0 200 OK\r\n\r\nOK")

    thread = threading.Thread(target=answer, daemon=True)
    thread.start()
    yield path
    server.close()


def test_a_runtime_the_platform_did_not_start_is_refused(foreign_socket: Path) -> None:
    service = runtime.PodmanService(foreign_socket.parent)
    with pytest.raises(ConfigurationError, match="did not start answers on its socket"):
        service.start()
    service.stop()
    assert foreign_socket.exists()  # not the platform's to remove
    assert service.base_url == f"unix://{foreign_socket}"
