"""Whatever bytes a target sends, the code that reads them may find nothing but never raises and
never hangs: the body analyzers, the JWT reader and forger, and the Content-Encoding decoder.

Hypothesis's `deadline` fails an example that takes too long (a hang shows up as a deadline
error, or at worst as pytest-timeout's 120 s)."""

from __future__ import annotations

import base64
import gzip
import json
import zlib
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from middlebrick.checks.analyzers import jwt
from middlebrick.checks.analyzers.content import scan_body
from middlebrick.checks.analyzers.traces import find_trace
from middlebrick.http.client import Decoder

QUICK = settings(
    deadline=timedelta(seconds=2),
    max_examples=300,
    suppress_health_check=[HealthCheck.too_slow],
)

# JSON documents as a target might send them: any shape, any text, numbers of any size
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=40)
    | st.sampled_from(["4111 1111 1111 1111", "alice@example.com", "123-45-6789", "hunter2"]),
    lambda children: (
        st.lists(children, max_size=6)
        | st.dictionaries(
            st.sampled_from(["password", "email", "token", "card", "ssn", "id", "x"])
            | st.text(max_size=10),
            children,
            max_size=6,
        )
    ),
    max_leaves=40,
)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


# three dot-separated segments whose parts decode to anything: JSON objects, other JSON, junk
segments = st.one_of(
    json_values.map(lambda v: b64(json.dumps(v).encode())),
    st.binary(max_size=64).map(b64),
    st.text(max_size=30),
)
jwt_like = st.tuples(segments, segments, segments).map(".".join)


@QUICK
@given(body=st.binary(max_size=4096), is_json=st.booleans())
def test_scan_body_survives_arbitrary_bytes(body: bytes, is_json: bool) -> None:
    assert isinstance(scan_body(body, is_json), list)


@QUICK
@given(document=json_values)
def test_scan_body_survives_arbitrary_json(document: object) -> None:
    for encoding in ("utf-8", "utf-16", "utf-32"):
        assert isinstance(scan_body(json.dumps(document).encode(encoding), True), list)


@QUICK
@given(depth=st.integers(min_value=1, max_value=100_000))
def test_scan_body_survives_deep_nesting(depth: int) -> None:
    scan_body(b'{"password": ' + b"[" * depth + b"1" + b"]" * depth + b"}", True)


@QUICK
@given(text=st.text(max_size=4096))
def test_find_trace_survives_arbitrary_text(text: str) -> None:
    find_trace(text)


@QUICK
@given(
    text=st.lists(
        st.sampled_from(
            [
                "Traceback (most recent call last):\n",
                '  File "/app/x.py", line 1, in f\n',
                "panic: boom\n",
                "goroutine 1 [running]:\n",
                "\tat com.x.Y(Y.java:1)\n",
                "java.lang.NullPointerException\n",
                "SQLSTATE[42000]",
                "ORA-00933:",
                "\n",
                " ",
                "x" * 50,
            ]
        ),
        max_size=200,
    ).map("".join)
)
def test_find_trace_survives_trace_fragments_in_any_order(text: str) -> None:
    find_trace(text)


@QUICK
@given(token=st.one_of(st.text(max_size=200), jwt_like))
def test_jwt_decode_and_forgeries_survive_any_token(token: str) -> None:
    decoded = jwt.decode(token)
    assert decoded is None or all(isinstance(part, dict) for part in decoded)
    forged = jwt.forgeries(token)
    assert {"alg-none", "wrong-key", "expired", "signature-stripped"} <= set(forged)


@pytest.mark.parametrize("depth", [5_000, 100_000])
def test_jwt_decode_survives_deeply_nested_claims(depth: int) -> None:
    claims = b64(b'{"a": ' + b"[" * depth + b"]" * depth + b"}")
    token = f"{b64(b'{}')}.{claims}.sig"
    jwt.decode(token)
    jwt.forgeries(token)


@QUICK
@given(data=st.binary(max_size=64))
def test_b64url_round_trips(data: bytes) -> None:
    assert jwt.unb64url(jwt.b64url(data)) == data


@QUICK
@given(
    header=st.one_of(
        st.sampled_from(["gzip", "x-gzip", "deflate", "br", "zstd", "gzip, br", "identity", ""]),
        st.text(max_size=30),
    ),
    chunks=st.lists(st.binary(max_size=2048), max_size=8),
    limit=st.integers(min_value=1, max_value=1 << 16),
)
def test_decoder_survives_arbitrary_input_and_respects_its_limit(
    header: str, chunks: list[bytes], limit: int
) -> None:
    decoder = Decoder.for_encoding(header)
    for chunk in chunks:
        assert len(decoder.feed(chunk, limit)) <= limit
        decoder.finished  # noqa: B018 - must not raise either


@QUICK
@given(
    payload=st.binary(max_size=8192),
    wbits=st.sampled_from([16 + zlib.MAX_WBITS, zlib.MAX_WBITS, -zlib.MAX_WBITS]),
    cuts=st.lists(st.integers(min_value=0, max_value=10_000), max_size=6),
    tail=st.binary(max_size=256),
)
def test_decoder_decodes_what_it_asks_for_in_any_chunking(
    payload: bytes, wbits: int, cuts: list[int], tail: bytes
) -> None:
    """gzip, zlib-wrapped and raw deflate; split anywhere; junk after the end is dropped."""
    packer = zlib.compressobj(6, zlib.DEFLATED, wbits)
    wire = packer.compress(payload) + packer.flush() + tail
    decoder = Decoder.for_encoding("gzip" if wbits > zlib.MAX_WBITS else "deflate")
    out = b""
    for start, end in zip([0, *sorted(cuts)], [*sorted(cuts), len(wire)], strict=True):
        if decoder.finished:
            break
        out += decoder.feed(wire[start:end], 1 << 20)
    assert out == payload


@QUICK
@given(size=st.integers(min_value=1, max_value=1 << 16), limit=st.integers(1, 4096))
def test_decoder_bounds_a_bomb_at_any_limit(size: int, limit: int) -> None:
    bomb = gzip.compress(b"\0" * (size * 64))
    assert len(Decoder.for_encoding("gzip").feed(bomb, limit)) == min(limit, size * 64)
