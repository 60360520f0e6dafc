"""Answers whose head or body is the problem: too slow, endless, a compression bomb, or text in
no charset it claims."""

from __future__ import annotations

import base64
import functools
import zlib

from targets.hostile.wire import Peer, Received, head, respond

# 1 GiB of zeros as brotli, quality 11, window 24: 841 bytes. Made once with the brotli CLI
# (`head -c 1G /dev/zero | brotli -q 11 -w 24`); no brotli package is a dependency.
BROTLI_GIB = base64.b64decode(
    "z///f/gnAOKxQCD3/p/////wTwDEYQGA7v0/////4Z8AiMMiAN37f/7//8M/ARCHBQC69//8//+HfwIgDgsAdO//"
    "+f//D/8EQBwWAOje//P//x/+CYA4LADQvf/n//8//BMAcVgAoHv/z///f/gnAOKwAED3/p/////wTwDEYQGA7v0/"
    "////4Z8AiMMCAN37f/7//8M/ARCHBQC69//8//+HfwIgDgsAdO//+f//D/8EQBwWAOje//P//x/+CYA4LADQvf/n"
    "//8//BMAcVgAoHv/z///f/gnAOKwAED3/p/////wTwDEYQGA7v0/////4Z8AiMMCAN37f/7//8M/ARCHBQC69//8"
    "//+HfwIgDgsAdO//+f//D/8EQBwWAOje//P//x/+CYA4LADQvf/n//8//BMAcVgAoHv/z///f/gnAOKwAED3/p//"
    "///wTwDEYQGA7v0/////4Z8AiMMCAN37f/7//8M/ARCHBQC69//8//+HfwIgDgsAdO//+f//D/8EQBwWAOje//P/"
    "/x/+CYA4LADQvf/n//8//BMAcVgAoHv/z///f/gnAOKwAED3/p/////wTwDEYQGA7v0/////4Z8AiMMCAN37f/7/"
    "/8M/ARCHBQC69//8//+HfwIgDgsAdO//+f//D/8EQBwWAOje//P//x/+CYA4LADQvf/n//8//BMAcVgAoHv/z///"
    "f/gnAOKwAED3/p/////wTwDEYQGA7v0/////4Z8AiMMCAN37f/7//8M/ARCHBQC69//8//+HfwIgDgsAdO//+f//"
    "D/8EQBwWAOje//P//x/+CYA4LADQvf/n//8//BMAcVgAoHv/z///f/gnAOKwAED3/p/////wTwDEYQGA7v0/////"
    "4Z8AiMMCAN37f/7//8M/ARCHBQC69//8//+HfwIgDgsAdO//+f//D/8EQBwWAOje//P//x/+CYA4LADQvf/n//8/"
    "/BMAcVgAoHv/z///f/gnAOKwAED3/p/////wTwDEYQGA7v0/////4Z8AiMMCAN37f/7//8M/ARCHBQC69//8//+H"
    "fwIgDgsAdO//+f//D/8EQBwWAOje//P//x/+CYA4LADQvf/n//8//BMAcVgAoHv/Pw=="
)

ZEROS = b"\0" * (4 << 20)
TEXT = b'{"items": [' + b'"aaaaaaaaaaaaaaaa", ' * 4096  # 80 KiB of a JSON array that never ends


def slow_head(_: Received, peer: Peer) -> None:
    """The status line at once, then the header section one byte a second."""
    peer.send(b"HTTP/1.1 200 OK\r\n")
    peer.trickle(b"X-Slow: " + b"a" * 1000)


def slowloris_body(_: Received, peer: Peer) -> None:
    """A complete head announcing 1 MB, then the body one byte a second."""
    peer.send(head(200, [("Content-Type", "application/json")], length=1_000_000))
    peer.trickle(TEXT)


def endless_chunked(_: Received, peer: Peer) -> None:
    """A chunked body that never ends (stops at 16 GiB or when the client hangs up)."""
    peer.send(head(200, [("Content-Type", "application/json"), ("Transfer-Encoding", "chunked")]))
    chunk = b"%x\r\n%s\r\n" % (len(TEXT), TEXT)
    for _ in range((16 << 30) // len(TEXT)):
        peer.send(chunk)


@functools.cache
def _units(wbits: int) -> tuple[bytes, bytes]:
    """The start of a compressed stream of zeros, and a unit that continues it forever: after a
    full flush the compressor starts afresh, so the same input compresses to the same bytes."""
    packer = zlib.compressobj(9, zlib.DEFLATED, wbits)
    start = packer.compress(ZEROS) + packer.flush(zlib.Z_FULL_FLUSH)
    return start, packer.compress(ZEROS) + packer.flush(zlib.Z_FULL_FLUSH)


def _endless_compressed(peer: Peer, encoding: str, wbits: int) -> None:
    """Zeros without end (64 GiB decoded, ~64 MiB on the wire), EOF-delimited."""
    start, unit = _units(wbits)
    peer.send(head(200, [("Content-Type", "application/json"), ("Content-Encoding", encoding)]))
    peer.send(start)
    for _ in range((64 << 30) // len(ZEROS)):
        peer.send(unit)


def gzip_bomb(_: Received, peer: Peer) -> None:
    _endless_compressed(peer, "gzip", 16 + zlib.MAX_WBITS)


def deflate_bomb(_: Received, peer: Peer) -> None:
    _endless_compressed(peer, "deflate", zlib.MAX_WBITS)


def brotli_bomb(_: Received, peer: Peer) -> None:
    """841 bytes on the wire, 1 GiB once decoded; the scanner never asked for `br`."""
    respond(
        peer, 200, BROTLI_GIB, [("Content-Type", "application/json"), ("Content-Encoding", "br")]
    )


def gzip_then_garbage(_: Received, peer: Peer) -> None:
    """A complete little gzip member, then bytes without end: nothing left to decode, so a reader
    that only counts decoded bytes would read (and keep) them until its timeout."""
    peer.send(head(200, [("Content-Type", "application/json"), ("Content-Encoding", "gzip")]))
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    peer.send(packer.compress(b'{"ok": true}') + packer.flush())
    junk = b"\x1f" * (1 << 20)
    for _ in range(16 << 10):  # 16 GiB
        peer.send(junk)


def invalid_utf8(_: Received, peer: Peer) -> None:
    """JSON-looking bytes that are not UTF-8: lone continuation bytes, overlongs, surrogates."""
    body = b'{"name": "\xc3\x28\xa0\xa1", "x": "\xed\xa0\x80\xf8\x88\x80\x80\x80", "e": "\xff\xfe"}'
    respond(peer, 200, body, [("Content-Type", "application/json; charset=utf-8")])


def utf16_claimed(_: Received, peer: Peer) -> None:
    """ASCII (an odd number of bytes) labelled UTF-16."""
    body = b'{"email": "alice@example.com", "odd": "x"}!'
    respond(peer, 200, body, [("Content-Type", "application/json; charset=utf-16")])


def bogus_charset(_: Received, peer: Peer) -> None:
    respond(
        peer,
        200,
        b"<html><body>caf\xe9 \x81\x8d</body></html>",
        [("Content-Type", "text/html; charset=bogus-8")],
    )
