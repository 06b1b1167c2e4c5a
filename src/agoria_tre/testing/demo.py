"""``scripts/demo.sh`` run as an operator runs it, for the end-to-end test and the benchmark:
its output read as it comes, the demo logins it prints, the moment the platform's URL
appears, and Ctrl-C."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from typing import IO, cast

RUNNING = re.compile(r"Agoria TRE is running at (\S+)")
LOGIN = re.compile(r"^\s+(\w+)\s+(lead|researcher|reviewer)\s+(\S+)\s*$")


class DemoRun:
    """One run of ``command`` (the demo script, or the platform alone), started at once;
    ``lines`` fills while it runs."""

    def __init__(self, command: Sequence[str], env: Mapping[str, str]) -> None:
        self.lines: list[str] = []
        self.started = time.monotonic()
        self.process = subprocess.Popen(
            list(command),
            env=dict(env),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            start_new_session=True,
        )
        self._stream = cast(IO[str], self.process.stdout)  # a pipe, as asked above
        self._reader = threading.Thread(target=self._read, args=(self._stream,), daemon=True)
        self._reader.start()

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            self.lines.append(line.rstrip("\n"))

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_for_url(self, timeout: float) -> tuple[str, float]:
        """The URL the platform printed once it answered, and the seconds it took."""
        deadline = time.monotonic() + timeout
        while True:
            ended = self.process.poll() is not None
            if ended:
                self._reader.join(5.0)  # what it printed last has been read
            found = RUNNING.search(self.output)
            if found:
                return found.group(1), time.monotonic() - self.started
            if ended or time.monotonic() > deadline:
                raise AssertionError(f"the demo printed no URL:\n{self.output[-6000:]}")
            time.sleep(0.2)

    def logins(self) -> dict[str, tuple[str, str]]:
        """The demo logins printed by this run: user → (role, password)."""
        found = (LOGIN.match(line) for line in self.lines)
        return {m.group(1): (m.group(2), m.group(3)) for m in found if m}

    def interrupt(self, timeout: float = 180.0) -> int:
        """Ctrl-C, as in the terminal: SIGINT to the script's process group; the exit status
        (that of a run which had already ended, too)."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)
        status = self.process.wait(timeout=timeout)
        self._reader.join(timeout)  # the last lines read, then the pipe closed
        self._stream.close()
        return status
