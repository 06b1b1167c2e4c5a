"""How a test reads a run of the demo script (testing/demo.py): the logins and the URL it
prints, a run that ends or takes too long without printing a URL, and Ctrl-C, whether the
run is still going or has already ended."""

from __future__ import annotations

import os
import signal

import pytest

from agoria_tre.testing.demo import DemoRun

PRINTS = """
echo 'Demo logins (shown this once):'
echo '  alice    researcher  s3cret-one'
echo '  bob      reviewer    s3cret-two'
echo 'Agoria TRE is running at http://127.0.0.1:8000/hub/ (Ctrl-C stops it)'
trap 'echo stopping; exit 0' INT
while :; do sleep 0.1; done
"""


def run(script: str) -> DemoRun:
    return DemoRun(["bash", "-c", script], dict(os.environ))


def test_the_logins_and_the_url_are_read_as_they_are_printed() -> None:
    demo = run(PRINTS)
    url, seconds = demo.wait_for_url(timeout=60)
    assert url == "http://127.0.0.1:8000/hub/"
    assert seconds >= 0
    assert demo.logins() == {
        "alice": ("researcher", "s3cret-one"),
        "bob": ("reviewer", "s3cret-two"),
    }
    assert demo.interrupt() == 0
    assert demo.output.endswith("stopping")
    assert demo.interrupt() == 0  # a second Ctrl-C finds the run ended and says how


def test_a_run_that_ends_without_a_url_says_what_it_printed() -> None:
    demo = run("echo 'podman: not found'; exit 3")
    with pytest.raises(AssertionError, match="podman: not found"):
        demo.wait_for_url(timeout=60)
    assert demo.interrupt() == 3
    assert demo.logins() == {}


def test_a_run_that_prints_no_url_in_time_is_given_up() -> None:
    demo = run("echo 'building the image'; sleep 600")
    with pytest.raises(AssertionError, match="the demo printed no URL"):
        demo.wait_for_url(timeout=0.5)
    assert demo.process.poll() is None  # still running: Ctrl-C is the caller's to send
    assert demo.interrupt() == -signal.SIGINT


def test_ctrl_c_reaches_the_whole_process_group() -> None:
    demo = run("echo started; sleep 600; echo survived")
    while "started" not in demo.output:
        demo.process.poll()  # the script is running
    assert demo.interrupt() == -signal.SIGINT  # the sleep got it too, and the script with it
    assert "survived" not in demo.output
