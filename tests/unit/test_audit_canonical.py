"""The canonical form of an audit event: what is hashed, byte for byte."""

from __future__ import annotations

import hashlib
import json
import random
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from agoria_tre import audit


def test_canonical_bytes_are_exact() -> None:
    details = audit.canonical_details({"role": "reviewer", "b": [1, 2], "a": "é"})
    assert details == '{"a":"é","b":[1,2],"role":"reviewer"}'
    canonical = audit.canonical_bytes(
        7, "2026-11-28T10:00:00.000001Z", "alice", "member.add", "user:bob", "cardio", details
    )
    assert (
        canonical
        == (
            '[1,7,"2026-11-28T10:00:00.000001Z","alice","member.add","user:bob","cardio",'
            '{"a":"é","b":[1,2],"role":"reviewer"}]'
        ).encode()
    )


def test_chain_hash_is_sha256_of_previous_hash_and_bytes() -> None:
    canonical = b'[1,1,"t","a","x","y",null,{}]'
    expected = hashlib.sha256(("0" * 64).encode() + canonical).hexdigest()
    assert audit.chain_hash(audit.GENESIS_HASH, canonical) == expected


def test_null_project_and_quotes_are_unambiguous() -> None:
    a = audit.canonical_bytes(1, "t", 'x","y', "act", "tgt", None, "{}")
    b = audit.canonical_bytes(1, "t", "x", "y", "act", "tgt", "{}")
    assert a != b


def test_details_accept_dates_and_refuse_objects() -> None:
    text = audit.canonical_details({"until": date(2027, 6, 30)})
    assert text == '{"until":"2027-06-30"}'
    with pytest.raises(TypeError, match="JSON values"):
        audit.canonical_details({"x": object()})


def test_timestamp_is_fixed_width_utc() -> None:
    stamp = audit.format_timestamp(datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC))
    assert stamp == "2026-01-02T03:04:05.000000Z"
    assert len(stamp) == 27


def test_anchor_reading(tmp_path: Path) -> None:
    path = tmp_path / "anchor.log"
    assert not audit.read_anchor(path).exists
    audit.append_anchor(path, 1, "a" * 64)
    audit.append_anchor(path, 2, "b" * 64)
    reading = audit.read_anchor(path)
    assert reading.entries == {1: "a" * 64, 2: "b" * 64}
    assert reading.last_seq == 2
    assert path.stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"1 " + b"a" * 63 + b"\n", "line 1 is malformed"),
        (b"x " + b"a" * 64 + b"\n", "line 1 is malformed"),
        (b"1 " + b"A" * 64 + b"\n", "line 1 is malformed"),
        (b"1 " + b"a" * 64 + b"\n1 " + b"b" * 64 + b"\n", "two different hashes for event 1"),
    ],
)
def test_anchor_corruption_is_reported(tmp_path: Path, content: bytes, problem: str) -> None:
    path = tmp_path / "anchor.log"
    path.write_bytes(content)
    reading = audit.read_anchor(path)
    assert reading.problem is not None
    assert problem in reading.problem


def test_canonical_bytes_equal_the_json_array_for_any_text() -> None:
    """The hand-written encoder matches json.dumps on quotes, escapes and non-ASCII."""
    rng = random.Random(20261128)
    alphabet = 'ab"\\\n\t\x00\x1f\u2028é€/<>{}[],:'
    for _ in range(3000):
        texts = ["".join(rng.choices(alphabet, k=rng.randint(0, 10))) for _ in range(5)]
        project = None if rng.random() < 0.3 else texts[4]
        seq = rng.randint(1, 10**12)
        expected = (
            json.dumps([1, seq, *texts[:4], project], ensure_ascii=False, separators=(",", ":"))[
                :-1
            ]
            + ',{"k":1}]'
        )
        got = audit.canonical_bytes(seq, *texts[:4], project, '{"k":1}')
        assert got == expected.encode(), texts
        assert json.loads(got)[1] == seq
