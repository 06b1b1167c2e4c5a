"""The helpers that drive a running airlock in tests and benchmarks (agoria_tre.testing):
what they compute without a platform."""

from __future__ import annotations

import json
import threading

import pytest

from agoria_tre.testing.airlock import AirlockClient
from agoria_tre.testing.load import Tally, notebook, percentile, review_until_done
from agoria_tre.testing.platform import free_port


def test_percentiles_of_timings() -> None:
    assert percentile([], 0.95) == 0.0
    assert percentile([3.0, 1.0, 2.0], 0.5) == 2.0
    assert percentile([float(k) for k in range(100)], 0.95) == 95.0


def test_the_load_notebook_has_the_outputs_asked_for() -> None:
    built = json.loads(notebook(20))
    assert len(built["cells"]) == 20
    assert all(c["outputs"][0]["output_type"] == "execute_result" for c in built["cells"])


def test_waiting_for_an_airlock_that_never_answers_ends() -> None:
    client = AirlockClient(f"http://127.0.0.1:{free_port()}", "token")
    with pytest.raises(AssertionError, match="did not answer"):
        client.wait_until_up(timeout=0.3)


def test_the_review_loop_is_bounded() -> None:
    client = AirlockClient(f"http://127.0.0.1:{free_port()}", "token")
    assert review_until_done(client, Tally(), 1, threading.Event(), rounds=0) == 0
