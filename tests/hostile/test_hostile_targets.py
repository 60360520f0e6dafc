"""Hostile targets: whatever a server does on the wire, a scan ends within its budget (+2 s), stays
under 300 MiB, and says what it could not judge — a check whose requests all went unanswered is
`incomplete` with the reason, never a clean pass.

Two shapes per misbehaviour. "Everywhere": the first request already fails, so there is nothing to
scan and the engine stops with `TargetError` (exit 3) and the cause in one line — the documented
outcome for an unusable target. "Beyond the root": `/` answers like a healthy API (recon succeeds,
the crawl finds three links), every other URL misbehaves; the scan must finish with a report.
Every scan runs in a child process (see conftest) so its peak RSS is its own.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import Counter
from email.utils import formatdate
from pathlib import Path

import pytest

from middlebrick.demo.server import serve
from middlebrick.demo.tls import local_ca, server_context, write_ca_pem
from middlebrick.http.client import BudgetExhausted, HttpClient, retry_after, tls_context
from middlebrick.http.exchange import Masker
from middlebrick.model import CheckStatus

from targets.files import everything_200, spa_shell
from targets.hostile import bodies, protocol, tls
from targets.hostile.scanning import TIMEOUT, incomplete, note_with, scan_in_child
from targets.hostile.wire import Behaviour, Log, beyond_root, http_server
from targets.raw import tcp_server

CAP = 1 << 20  # the default body cap

# checks that only send beyond the root: with every such request unanswered they cannot judge
BEYOND_ROOT_CHECKS = ("MB-DATA-007", "MB-DATA-008", "MB-DATA-016")


def assert_target_error(outcome_error: str | None, exit_code: int | None, *fragments: str) -> None:
    assert exit_code == 3, outcome_error
    assert outcome_error is not None
    assert outcome_error.startswith("TargetError: cannot scan http")
    for fragment in fragments:
        assert fragment in outcome_error


# 1. slow heads and slowloris bodies --------------------------------------------------------------


@pytest.mark.parametrize(
    ("behaviour", "said"),
    [
        (bodies.slow_head, "no response within 2.0s"),
        (bodies.slowloris_body, "the response body did not finish within 2.0s (HTTP 200)"),
    ],
    ids=["slow-head", "slowloris-body"],
)
def test_a_target_too_slow_from_the_first_request_stops_with_exit_3(
    behaviour: Behaviour, said: str
) -> None:
    with http_server(behaviour) as wire:
        outcome = scan_in_child(wire.url)
    assert_target_error(outcome.error, outcome.exit_code, said, "--timeout")
    assert outcome.wall_s <= TIMEOUT + 2


@pytest.mark.parametrize(
    "behaviour", [bodies.slow_head, bodies.slowloris_body], ids=["slow-head", "slowloris-body"]
)
def test_slow_answers_beyond_the_root_end_the_scan_on_budget_and_say_so(
    behaviour: Behaviour,
) -> None:
    with http_server(beyond_root(behaviour)) as wire:
        outcome = scan_in_child(wire.url)
    report = outcome.finished()
    unfinished = incomplete(report)
    assert set(BEYOND_ROOT_CHECKS) <= set(unfinished), unfinished
    assert note_with(report, "requests got no answer").count("timeout")
    # nothing stays connected past the request timeout (+ the server's 1 s trickle step)
    assert max(c.lifetime for c in wire.log.connections) < TIMEOUT + 3


# 2. an endless chunked body ----------------------------------------------------------------------


def test_an_endless_chunked_body_is_cut_at_the_cap_and_the_connection_closed() -> None:
    with http_server(bodies.endless_chunked) as wire:
        outcome = scan_in_child(wire.url)
    report = outcome.finished()
    # each connection ends as soon as the cap is read: the client hangs up, it does not wait for
    # its timeout; what was written is the cap plus what socket buffers took (16 GiB otherwise)
    assert max(c.lifetime for c in wire.log.connections) < TIMEOUT / 2
    assert max(c.sent for c in wire.log.connections) < 32 * CAP
    capped = [x.response for x in report.exchanges if x.response is not None]
    assert capped
    assert all(r.truncated and r.body_size == CAP for r in capped)


# 3. compression bombs ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "behaviour", [bodies.gzip_bomb, bodies.deflate_bomb], ids=["gzip", "deflate"]
)
def test_endless_compression_bombs_decode_to_the_cap_and_no_further(behaviour: Behaviour) -> None:
    with http_server(behaviour) as wire:
        outcome = scan_in_child(wire.url)
    report = outcome.finished()
    assert max(c.lifetime for c in wire.log.connections) < TIMEOUT / 2
    recorded = [x.response for x in report.exchanges if x.response is not None]
    assert recorded
    assert all(r.truncated and r.body_size == CAP for r in recorded)
    # 64 GiB per URL on offer; a scan of ~90 requests kept about one body's worth
    assert outcome.peak_rss_mib - outcome.rss_before_mib < 100


def test_a_brotli_bomb_is_kept_as_received_and_never_decoded() -> None:
    """Decision: no brotli decoder. The scanner asks only for gzip and deflate (the encodings its
    Decoder bounds); a `br` body is kept raw, capped like any body, and never expanded."""
    with http_server(bodies.brotli_bomb) as wire:
        outcome = scan_in_child(wire.url)
    report = outcome.finished()
    assert all(r.headers["accept-encoding"] == "gzip, deflate" for r in wire.log.requests)
    recorded = [x.response for x in report.exchanges if x.response is not None]
    assert recorded
    assert all(r.body_size == len(bodies.BROTLI_GIB) and not r.truncated for r in recorded)
    assert outcome.peak_rss_mib - outcome.rss_before_mib < 50


def test_bytes_after_the_end_of_a_gzip_stream_are_not_read() -> None:
    """A complete gzip member followed by an endless stream: before the fix the decoder piled the
    trailing bytes up in `unused_data` while the reader, counting decoded bytes only, waited for
    more until its timeout (the recon request timed out holding ~40 MB of junk)."""
    with http_server(bodies.gzip_then_garbage) as wire:
        outcome = scan_in_child(wire.url)
    report = outcome.finished()
    assert max(c.lifetime for c in wire.log.connections) < TIMEOUT / 2
    recorded = [x.response for x in report.exchanges if x.response is not None]
    assert recorded
    assert all(r.body_excerpt == '{"ok": true}' and r.truncated for r in recorded)
    assert outcome.peak_rss_mib - outcome.rss_before_mib < 50


# 4. oversized response heads ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("behaviour", "said"),
    [
        (protocol.huge_header_line, "the response head is too large: a line over 64 KiB"),
        (protocol.many_headers, "the response head is too large: too many header fields"),
    ],
    ids=["100-KiB-line", "10000-headers"],
)
def test_an_oversized_response_head_is_an_error_with_its_reason(
    behaviour: Behaviour, said: str
) -> None:
    with http_server(behaviour) as wire:
        everywhere = scan_in_child(wire.url)
    assert_target_error(everywhere.error, everywhere.exit_code, said)

    with http_server(beyond_root(behaviour)) as wire:
        outcome = scan_in_child(wire.url)
    report = outcome.finished()
    assert said in note_with(report, "requests got no answer")
    unfinished = incomplete(report)
    for check_id in BEYOND_ROOT_CHECKS:
        assert unfinished[check_id].startswith("none of its"), unfinished[check_id]
        assert said in unfinished[check_id]


# 5. bodies in no charset they claim --------------------------------------------------------------


@pytest.mark.parametrize(
    "behaviour",
    [bodies.invalid_utf8, bodies.utf16_claimed, bodies.bogus_charset],
    ids=["invalid-utf-8", "utf-16-on-ascii", "bogus-charset"],
)
def test_bodies_in_a_broken_charset_are_judged_without_error(behaviour: Behaviour) -> None:
    with http_server(behaviour) as wire:
        outcome = scan_in_child(wire.url)
    report = outcome.finished()  # conftest: no check ended in error
    assert incomplete(report) == {}
    assert report.requests_sent == len(wire.log.requests)


# 6. redirects ------------------------------------------------------------------------------------


def test_a_redirect_loop_is_never_followed() -> None:
    with http_server(protocol.redirect_loop) as wire:
        outcome = scan_in_child(wire.url)
    report = outcome.finished()
    per_url = Counter(r.target for r in wire.log.requests)
    assert max(per_url.values()) <= 6, per_url.most_common(3)  # identical requests go once
    assert report.requests_sent == len(wire.log.requests)


def test_redirects_off_origin_are_never_followed() -> None:
    with http_server(bodies.invalid_utf8) as elsewhere:
        with http_server(protocol.redirect_to(elsewhere.url)) as wire:
            outcome = scan_in_child(wire.url)
        assert elsewhere.log.requests == []
        assert elsewhere.log.connections == []
    assert outcome.finished().requests_sent == len(wire.log.requests)


# 7. resets and half-closed sockets ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("behaviour", "said"),
    [
        (protocol.reset, "the server reset the connection"),
        (protocol.half_close, "the server closed the connection without answering"),
    ],
    ids=["reset", "half-close"],
)
def test_connections_cut_without_an_answer(behaviour: Behaviour, said: str) -> None:
    with http_server(behaviour) as wire:
        everywhere = scan_in_child(wire.url)
    assert_target_error(everywhere.error, everywhere.exit_code, said)

    with http_server(beyond_root(behaviour)) as wire:
        outcome = scan_in_child(wire.url)
    report = outcome.finished()
    assert said in note_with(report, "requests got no answer")
    unfinished = incomplete(report)
    for check_id in BEYOND_ROOT_CHECKS:
        assert said in unfinished[check_id]


# 8. not HTTP at all ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "handler", [protocol.ssh_banner, protocol.random_bytes], ids=["ssh-banner", "random-bytes"]
)
def test_a_service_that_is_not_http_stops_the_scan_with_exit_3(handler: object) -> None:
    """See also tests/cli/test_errors.py (the CLI's one-line message for the SSH banner)."""
    with tcp_server(handler) as port:  # type: ignore[arg-type]
        outcome = scan_in_child(f"http://127.0.0.1:{port}")
    assert_target_error(outcome.error, outcome.exit_code, "did not answer with HTTP")


# 9. TLS ------------------------------------------------------------------------------------------


def test_a_tls_handshake_cut_short_stops_the_scan_with_exit_3() -> None:
    with tcp_server(tls.hello_then_close) as port:
        outcome = scan_in_child(f"https://127.0.0.1:{port}")
    assert_target_error(outcome.error, outcome.exit_code, "TLS handshake failed")


def test_a_tls_handshake_that_never_finishes_is_bounded_by_the_budget() -> None:
    """With a per-request timeout far above the budget, the budget still ends the scan."""
    with tcp_server(tls.stall) as port:
        outcome = scan_in_child(f"https://127.0.0.1:{port}", budget=3, timeout=60)
    # the request's timeout is what is left of the budget when recon starts: 3.0s or a hair less
    assert_target_error(outcome.error, outcome.exit_code, "no response within ")
    assert re.search(r"no response within (3\.0|2\.\d)s", outcome.error or ""), outcome.error


def test_handshakes_that_stall_after_recon_leave_the_scan_on_budget(tmp_path: Path) -> None:
    ca = local_ca()
    pem = write_ca_pem(ca, tmp_path / "ca.pem")
    log = Log()
    with tcp_server(tls.healthy_then_stalled(server_context(ca), log)) as port:
        outcome = scan_in_child(f"https://127.0.0.1:{port}", ca_bundle=str(pem))
    report = outcome.finished()
    assert [r.target for r in log.requests] == ["/"]  # recon; every later handshake stalled
    note_with(report, "requests got no answer")
    unfinished = incomplete(report)
    assert set(BEYOND_ROOT_CHECKS) <= set(unfinished), unfinished
    # the TLS checks' own handshakes stalled too: they say they could not read the certificate
    tls_runs = [r for r in report.checks if r.check_id in ("MB-ENC-008", "MB-ENC-009")]
    assert all(r.status is not CheckStatus.COMPLETED for r in tls_runs), tls_runs


# 10. 5xx everywhere ------------------------------------------------------------------------------


def test_a_target_that_fails_every_request_gets_a_note() -> None:
    with http_server(protocol.server_error) as wire:
        outcome = scan_in_child(wire.url)
    report = outcome.finished()
    assert "(5xx)" in note_with(report, "with a server error")
    assert incomplete(report) == {}  # error pages were answers, and judged


# 11. soft-404 ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "app",
    [lambda: everything_200("Not Found", "text/plain"), spa_shell],
    ids=["same-page-everywhere", "spa-shell"],
)
def test_a_server_that_answers_every_path_with_200_gets_no_file_findings(app: object) -> None:
    """The whole scan, every check: tests/checks/test_exposed_files.py and
    tests/checks/test_debug_endpoints.py cover MB-DATA-007/008/016 one check at a time."""
    with serve(app()) as served:  # type: ignore[operator]
        outcome = scan_in_child(served.url)
    found = {f.check_id for f in outcome.finished().findings}
    assert not found & {"MB-DATA-006", "MB-DATA-007", "MB-DATA-008", "MB-DATA-016"}, found


# 12. rate limiting -------------------------------------------------------------------------------


@pytest.mark.parametrize("http_date", [False, True], ids=["seconds", "http-date"])
def test_a_429_slows_the_scan_down_and_the_report_says_so(http_date: bool) -> None:
    limiter = protocol.RateLimited(trigger=40, seconds=1, http_date=http_date)
    with http_server(limiter) as wire:
        outcome = scan_in_child(wire.url, budget=20)
    report = outcome.finished()
    note = note_with(report, "the target rate-limited the scan (1 × 429); slowed to")
    assert note.endswith(" req/s")
    assert limiter.limited_at is not None
    times = wire.log.times()
    before = [t for t in times if limiter.limited_at - 2 <= t < limiter.limited_at]
    after = [t for t in times if t > limiter.limited_at + 0.5]  # the pause is at least 1 s
    assert len(before) >= 10
    assert len(after) >= 10
    rate_before = (len(before) - 1) / (before[-1] - before[0])
    rate_after = (len(after) - 1) / (after[-1] - after[0])
    assert rate_after <= 0.75 * rate_before, (rate_before, rate_after)
    assert min(after) - limiter.limited_at >= 0.9  # Retry-After honoured
    # the limited request was sent again
    limited = [r.target for r in wire.log.requests if r.at == limiter.limited_at]
    assert not limited or Counter(r.target for r in wire.log.requests)[limited[0]] >= 2


def _client(deadline_in: float) -> HttpClient:
    return HttpClient(
        masker=Masker(),
        user_agent="test",
        timeout=5,
        concurrency=2,
        rate=None,
        deadline=time.monotonic() + deadline_in,
        body_cap=CAP,
        verify=tls_context(None, insecure=False),
    )


def test_a_retry_after_beyond_the_deadline_is_not_waited_for() -> None:
    limiter = protocol.RateLimited(trigger=1, seconds=3600)

    async def go(url: str) -> float:
        async with _client(deadline_in=5) as client:
            started = time.monotonic()
            with pytest.raises(BudgetExhausted):
                await client.send("GET", url + "/x", purpose="test")
            return time.monotonic() - started

    with http_server(limiter) as wire:
        waited = asyncio.run(go(wire.url))
    assert waited < 1
    assert len(wire.log.requests) == 1


def test_retry_after_values() -> None:
    assert retry_after("7") == 7
    assert retry_after(None) is None
    assert retry_after("soon") is None
    assert retry_after("-1") is None
    assert retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0  # in the past: go now
    future = time.time() + 30
    assert 25 < (retry_after(formatdate(future, usegmt=True)) or 0) <= 30
