"""Inventory without a description: what the API shows (links, robots.txt, debug route lists),
and descriptions found where APIs publish them."""

from __future__ import annotations

import json

from flask import Flask, Response, request

from middlebrick.demo.server import serve
from middlebrick.engine.discovery import _django_routes

from checks.conftest import scan_now

DJANGO_404 = """<html><body><h1>Page not found <span>(404)</span></h1>
<p>Using the URLconf defined in <code>shop.urls</code>,
Django tried these URL patterns, in this order:</p>
<ol>
  <li>admin/</li>
  <li>api/orders/ [name='order-list']</li>
  <li>api/orders/&lt;int:pk&gt;/ [name='order-detail']</li>
  <li>^api/legacy/$</li>
</ol></body></html>"""


def browsable_api(seen: list[str]) -> Flask:
    app = Flask("browsable")

    @app.before_request
    def record() -> None:
        seen.append(request.path)

    @app.get("/")
    def index() -> str:
        links = "".join(f'<a href="/api/things/{i}">thing {i}</a>' for i in range(500))
        return (
            f'<html><link href="/static/site.css" rel="stylesheet">{links}'
            '<a href="https://elsewhere.example/x">away</a><a href="/api/things">all</a></html>'
        )

    @app.get("/api/things")
    def things() -> Response:
        return Response(json.dumps({"next": "/api/things?page=2"}), mimetype="application/json")

    @app.get("/robots.txt")
    def robots() -> Response:
        return Response(
            "User-agent: *\nDisallow: /internal/reports\nDisallow: /*.pdf$\n", mimetype="text/plain"
        )

    return app


def test_inventory_follows_html_links_robots_and_stays_bounded() -> None:
    seen: list[str] = []
    with serve(browsable_api(seen)) as served:
        report = scan_now(served.url, checks=("MB-DATA-005",))
    assert report.coverage.operations_declared == 22  # the root, 20 of its 500 links, robots.txt
    assert report.spec is None
    assert "/internal/reports" in seen  # from robots.txt
    assert "/api/things/0" in seen  # from the HTML
    assert "/static/site.css" not in seen  # assets are not operations
    assert not any(p.endswith(".pdf$") or p.startswith("/x") for p in seen)


def test_django_debug_page_routes_are_read() -> None:
    assert _django_routes(DJANGO_404) == ["admin/", "api/orders/", "api/legacy/"]


def test_description_is_found_through_a_swagger_ui_page() -> None:
    app = Flask("swagger-ui")
    doc = {"openapi": "3.0.3", "paths": {"/api/ping": {"get": {"security": []}}}}

    @app.get("/docs")
    def docs() -> str:
        return '<script>SwaggerUIBundle({url: "/static/api-spec.json", dom_id: "#ui"})</script>'

    @app.get("/static/api-spec.json")
    def spec() -> Response:
        return Response(json.dumps(doc), mimetype="application/json")

    with serve(app) as served:
        report = scan_now(served.url, checks=("MB-INV-001",))
    assert report.spec == f"{served.url}/static/api-spec.json"
    assert [f.check_id for f in report.findings] == ["MB-INV-001"]
    assert report.coverage.operations_declared == 1
