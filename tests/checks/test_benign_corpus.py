"""Precision: realistic third-party API responses that hold no leak must give no finding.

The corpus (tests/corpus/benign) copies the shapes that trip other scanners: commit and content
digests, UUIDs, long numeric ids, floats and coordinates, timestamps, base64 images, JWKS public
keys, OAuth discovery documents, masked settings, test-mode payment objects and documentation
examples (`AKIAIOSFODNN7EXAMPLE`, `4242 4242 4242 4242`, `user:password@localhost`).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from middlebrick.checks.analyzers.content import scan_body
from middlebrick.demo.server import serve

from checks.conftest import scan_now

CORPUS = Path(__file__).parent.parent / "corpus" / "benign"
DOCUMENTS = sorted(CORPUS.glob("*.json"))
# every check that reads response bodies for leaked data
BODY_CHECKS = {f"MB-DATA-{n:03}" for n in (9, 11, 12, 13, 14, 15)}


def test_the_corpus_is_there() -> None:
    assert len(DOCUMENTS) >= 15


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: p.stem)
def test_benign_document_has_no_hits(path: Path) -> None:
    hits = scan_body(path.read_bytes(), is_json=True)
    # one person's e-mail address is a profile, not a leak: the check reports lists of them
    assert [h for h in hits if h.kind != "e-mail address"] == []
    assert len({h.value for h in hits}) <= 1, hits


def _corpus_api(served: set[str]) -> Starlette:
    async def index(request: Request) -> Response:
        return JSONResponse({"links": {p.stem: f"/v1/{p.stem}" for p in DOCUMENTS}})

    async def document(request: Request) -> Response:
        path = CORPUS / f"{request.path_params['name']}.json"
        if path not in DOCUMENTS:
            return JSONResponse({"title": "Not Found"}, status_code=404)
        served.add(path.stem)
        return Response(
            path.read_bytes(),
            media_type="application/json",
            headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"},
        )

    return Starlette(routes=[Route("/", index), Route("/v1/{name}", document)])


def test_a_scan_of_the_corpus_reports_no_leak() -> None:
    read: set[str] = set()
    with serve(_corpus_api(read)) as server:
        report = scan_now(server.url)
    assert read == {p.stem for p in DOCUMENTS}  # the crawl reached every document
    assert [f for f in report.findings if f.check_id in BODY_CHECKS] == []
