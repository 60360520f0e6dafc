"""The HTTP client wrapper against real servers: bodies capped after decoding, bombs defused."""

from __future__ import annotations

import asyncio
import gzip
import time
import zlib

import pytest
from flask import Flask, Response

from middlebrick.demo.server import serve
from middlebrick.http.client import Decoder, HttpClient, tls_context
from middlebrick.http.exchange import Masker

CAP = 64 * 1024
BOMB = gzip.compress(b"\0" * (50 * 1024 * 1024), compresslevel=9)  # 50 MiB of zeros in ~50 KiB


def payload_app() -> Flask:
    app = Flask("payloads")

    @app.get("/bomb")
    def bomb() -> Response:
        return Response(BOMB, headers={"Content-Encoding": "gzip"}, mimetype="application/json")

    @app.get("/big")
    def big() -> Response:
        return Response(b"x" * (CAP * 4), mimetype="text/plain")

    @app.get("/deflate-raw")
    def deflate_raw() -> Response:
        packer = zlib.compressobj(wbits=-zlib.MAX_WBITS)
        body = packer.compress(b'{"ok": true}') + packer.flush()
        return Response(body, headers={"Content-Encoding": "deflate"}, mimetype="application/json")

    @app.get("/small-gzip")
    def small_gzip() -> Response:
        return Response(gzip.compress(b'{"ok": true}'), headers={"Content-Encoding": "gzip"})

    return app


async def fetch(url: str) -> tuple[int, bytes, bool]:
    async with HttpClient(
        masker=Masker(),
        user_agent="test",
        timeout=5,
        concurrency=2,
        rate=None,
        deadline=time.monotonic() + 30,
        body_cap=CAP,
        verify=tls_context(None, insecure=False),
    ) as client:
        ex = await client.send("GET", url, purpose="test")
    assert ex.response is not None, ex.error
    return ex.response.status, ex.response.body, ex.response.truncated


@pytest.mark.parametrize("path", ["/bomb", "/big"])
def test_bodies_are_capped_after_decoding(path: str) -> None:
    with serve(payload_app()) as served:
        status, body, truncated = asyncio.run(fetch(served.url + path))
    assert status == 200
    assert len(body) == CAP
    assert truncated


@pytest.mark.parametrize("path", ["/deflate-raw", "/small-gzip"])
def test_compressed_bodies_are_decoded(path: str) -> None:
    with serve(payload_app()) as served:
        _, body, truncated = asyncio.run(fetch(served.url + path))
    assert body == b'{"ok": true}'
    assert not truncated


def test_decoder_never_returns_more_than_asked() -> None:
    decoder = Decoder.for_encoding("gzip")
    out = decoder.feed(BOMB[:4096], 1000)
    assert len(out) == 1000
