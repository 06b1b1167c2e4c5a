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


def test_events_since_the_os_user_is_recorded_are_version_2() -> None:
    canonical = audit.canonical_bytes(
        8, "2026-12-03T10:00:00.000001Z", "alice", "member.add", "user:bob", None, "{}", "root"
    )
    assert canonical == (
        b'[2,8,"2026-12-03T10:00:00.000001Z","alice","root","member.add","user:bob",null,{}]'
    )
    assert json.loads(canonical) == json.loads(
        json.dumps([2, 8, "2026-12-03T10:00:00.000001Z", "alice", "root", "member.add",
                    "user:bob", None, {}])
    )  # fmt: skip


def test_chain_hash_is_sha256_of_previous_hash_and_bytes() -> None:
    canonical = b'[1,1,"t","a","x","y",null,{}]'
    expected = hashlib.sha256(("0" * 64).encode() + canonical).hexdigest()
    assert audit.chain_hash(audit.GENESIS_HASH, canonical) == expected


def test_fields_cannot_run_into_each_other() -> None:
    # Naive quoting would write '"x","y","z"' for both events.
    a = audit.canonical_bytes(1, "t", 'x","y', "z", "tgt", None, "{}")
    b = audit.canonical_bytes(1, "t", "x", 'y","z', "tgt", None, "{}")
    assert a != b
    assert json.loads(a)[3:5] == ['x","y', "z"]
    assert json.loads(b)[3:5] == ["x", 'y","z']


def test_details_accept_dates_and_refuse_objects() -> None:
    text = audit.canonical_details({"until": date(2027, 6, 30)})
    assert text == '{"until":"2027-06-30"}'
    with pytest.raises(TypeError, match="not a JSON value"):
        audit.canonical_details({"x": object()})


def test_timestamp_is_fixed_width_utc() -> None:
    stamp = audit.format_timestamp(datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC))
    assert stamp == "2026-01-02T03:04:05.000000Z"
    assert len(stamp) == 27


def test_anchor_reading(tmp_path: Path) -> None:
    path = tmp_path / "anchor.log"
    assert not audit.read_anchor(path).exists
    audit.append_anchor(path, 1, 1, "a" * 64)
    audit.append_anchor(path, 4, 6, "c" * 64)
    audit.append_anchor(path, 2, 3, "b" * 64)  # writers may anchor out of order
    reading = audit.read_anchor(path)
    assert reading.ranges == [(1, 1, "a" * 64), (2, 3, "b" * 64), (4, 6, "c" * 64)]
    assert (reading.last_seq, reading.ends[3]) == (6, "b" * 64)
    assert reading.first_uncovered(6) is None
    assert path.stat().st_mode & 0o777 == 0o600


def test_uncovered_events_are_found() -> None:
    reading = audit.AnchorReading(True, [1, 5], [2, 5], ["a" * 64, "b" * 64])
    assert reading.first_uncovered(2) is None
    assert reading.first_uncovered(3) == 3
    assert reading.first_uncovered(9) == 3
    assert audit.AnchorReading(True).first_uncovered(1) == 1
    assert audit.AnchorReading(True, [2], [2], ["a" * 64]).first_uncovered(2) == 1
    assert audit.AnchorReading(True, [1], [3], ["a" * 64]).first_uncovered(3) is None
    assert audit.AnchorReading(True, [1], [3], ["a" * 64]).first_uncovered(4) == 4


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"1 1 " + b"a" * 63 + b"\n", "line 1 is malformed"),
        (b"1 1 " + b"a" * 64 + b"\nx 1 " + b"a" * 64 + b"\n", "line 2 is malformed"),
        (b"1 1 " + b"A" * 64 + b"\n", "line 1 is malformed"),
        (b"2 1 " + b"a" * 64 + b"\n", "empty range 2-1"),
        (b"1 3 " + b"a" * 64 + b"\n2 4 " + b"b" * 64 + b"\n", "overlap at event 2"),
        (b"0 1 " + b"a" * 64 + b"\n", "empty range 0-1"),
        (b"1 1 " + b"a" * 64 + b"\r\n", "line 1 is malformed"),
        (b"1\t1 " + b"a" * 64 + b"\n", "line 1 is malformed"),
        ("\u0661 1 ".encode() + b"a" * 64 + b"\n", "line 1 is malformed"),
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
        got = audit.canonical_bytes(seq, texts[0], texts[1], texts[2], texts[3], project, '{"k":1}')
        assert got == expected.encode(), texts
        assert json.loads(got)[1] == seq


def test_a_line_still_being_appended_is_not_read(tmp_path: Path) -> None:
    path = tmp_path / "anchor.log"
    path.write_bytes(b"1 1 " + b"a" * 64 + b"\n2 2 " + b"b" * 30)
    reading = audit.read_anchor(path)
    assert reading.problem is None
    assert reading.incomplete_tail
    assert reading.ranges == [(1, 1, "a" * 64)]
