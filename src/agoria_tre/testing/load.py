"""Researchers submitting and reviewers deciding at once, against a running airlock: the
load the tests check for correctness and the benchmark measures. A bounded loop on
loopback: each researcher makes one request, each reviewer decides what waits for them
until nothing does."""

from __future__ import annotations

import functools
import json
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from agoria_tre.catalog import projects
from agoria_tre.catalog.db import Catalog
from agoria_tre.catalog.models import Role
from agoria_tre.testing.airlock import AirlockClient, Answer
from agoria_tre.testing.hub import Hub


@dataclass
class Tally:
    """Every answer's status and how long each kind of call took."""

    statuses: list[int] = field(default_factory=list)
    timings: dict[str, list[float]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def timed(self, kind: str, call: Callable[[], Answer]) -> Answer:
        began = time.perf_counter()
        answer = call()
        took = time.perf_counter() - began
        with self.lock:
            self.statuses.append(answer.status)
            self.timings.setdefault(kind, []).append(took)
        return answer

    def server_errors(self) -> list[int]:
        return [s for s in self.statuses if s >= 500]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


def enrol(catalog: Catalog, project: str, users: list[str], role: Role) -> None:
    with catalog.write() as session:
        for user in users:
            projects.add_member(session, slug=project, username=user, role=role, actor="load")


def notebook(outputs: int) -> bytes:
    """A notebook of ``outputs`` cells, each printing a small safe table."""
    cells = [
        {
            "cell_type": "code",
            "id": f"c{k}",
            "metadata": {},
            "execution_count": k + 1,
            "source": f"df[df.site == {k}].groupby('sex').size()",
            "outputs": [
                {
                    "output_type": "execute_result",
                    "execution_count": k + 1,
                    "metadata": {},
                    "data": {"text/plain": f"sex\nF    {40 + k}\nM    {35 + k}\ndtype: int64"},
                }
            ],
        }
        for k in range(outputs)
    ]
    return json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": cells}).encode()


def submit_one(client: AirlockClient, project: str, tally: Tally, data: bytes, name: str) -> str:
    made = tally.timed(
        "create", lambda: client.post("api/requests", {"project": project, "title": "load"})
    )
    request_id = str(made.json["id"])
    tally.timed("upload", lambda: client.upload(request_id, name, data))
    tally.timed("submit+check", lambda: client.post(f"api/requests/{request_id}/submit"))
    return request_id


def review_until_done(
    client: AirlockClient, tally: Tally, expected: int, done: threading.Event, rounds: int = 400
) -> int:
    """Decide what waits for this reviewer, until every expected request is decided (or
    ``rounds`` passes: the loop is bounded). Returns the decisions taken."""
    decided = 0
    for _ in range(rounds):
        queue: list[dict[str, Any]] = tally.timed(
            "queue", lambda: client.get("api/requests?status=in_review")
        ).json["requests"]
        waiting = [r for r in queue if r["awaiting_me"]]
        if not waiting and done.is_set():
            break
        for request in waiting:
            seen = tally.timed(
                "view", functools.partial(client.get, f"api/requests/{request['id']}")
            )
            for item in seen.json.get("items", []):
                # Blind review: while decisions are missing, the ones shown are this one's.
                if item["decisions_missing"] and not item["decisions"]:
                    path = f"api/requests/{request['id']}/items/{item['id']}/review"
                    answer = tally.timed(
                        "decide", functools.partial(client.post, path, {"decision": "approve"})
                    )
                    decided += answer.status == 200
        if not waiting:
            time.sleep(0.05)
    return decided


@dataclass
class LoadResult:
    request_ids: list[str]
    tally: Tally
    seconds: float
    decisions: int


def run_load(
    hub: Hub,
    public_url: str,
    researchers: list[str],
    reviewers: list[str],
    project: str,
    data: bytes,
    name: str,
) -> LoadResult:
    """Every researcher submits one request while every reviewer reviews, all at once."""
    tally = Tally()
    clients = {
        user: AirlockClient(public_url, hub.token_for(user)) for user in researchers + reviewers
    }
    submitted = threading.Event()
    began = time.perf_counter()
    with ThreadPoolExecutor(max_workers=len(researchers) + len(reviewers)) as pool:
        reviewing = [
            pool.submit(review_until_done, clients[r], tally, len(researchers), submitted)
            for r in reviewers
        ]
        made = [
            pool.submit(submit_one, clients[u], project, tally, data, name) for u in researchers
        ]
        request_ids = [f.result() for f in made]
        submitted.set()
        decisions = sum(f.result() for f in reviewing)
    return LoadResult(request_ids, tally, time.perf_counter() - began, decisions)
