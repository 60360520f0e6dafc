"""An API that answers with markup meant to run in whoever reads its scan report.

Every value a report takes from the target carries a payload: the `Server` and `X-Powered-By`
headers, the Content-Type, a header that echoes the request path, JSON and HTML bodies, a
traceback in a 500, the 404 page and an exposed `.env` file. Each lands in a finding's detail or
evidence, in an exchange, or in the report's header.
"""

from __future__ import annotations

import json

from flask import Flask, Response, request

SCRIPT = "<script>alert(1)</script>"
ATTRIBUTE = '"><img src=x onerror=alert(1)>'
BREAKOUT = "</pre><script>alert(2)</script>"
TEMPLATE = "{{7*7}}"
JS_URL = "javascript:alert(3)"
PAYLOADS = (SCRIPT, ATTRIBUTE, BREAKOUT, TEMPLATE, JS_URL)
ALL = " ".join(PAYLOADS)


def hostile_api() -> Flask:
    app = Flask("hostile")

    @app.get("/")
    def index() -> Response:
        body = {
            "motd": SCRIPT,
            "links": {"items": "/items/1", "home": JS_URL, "help": f"/help?q={ATTRIBUTE}"},
            "banner": f"{BREAKOUT} {TEMPLATE}",
        }
        # JSON as text/html, with a Content-Type parameter that carries a payload (MB-CONF-002)
        return Response(json.dumps(body), content_type=f'text/html; x="{ATTRIBUTE}"')

    @app.get("/openapi.json")
    def spec() -> Response:
        return Response(
            json.dumps(
                {
                    "openapi": "3.0.3",
                    "info": {"title": SCRIPT, "version": TEMPLATE, "description": ALL},
                    "paths": {
                        "/items/{item_id}": {"get": {"summary": ATTRIBUTE, "security": []}},
                        "/profile": {"get": {"description": BREAKOUT, "security": []}},
                    },
                }
            ),
            mimetype="application/json",
        )

    @app.get("/items/<item_id>")
    def item(item_id: str) -> Response:
        if not item_id.isdigit():
            raise ValueError(f"bad item {item_id!r} {ALL}")
        return Response(json.dumps({"id": int(item_id), "name": SCRIPT}), mimetype="text/html")

    @app.get("/profile")
    def profile() -> Response:
        page = f"<html><body><h1>{SCRIPT}</h1><a href='{JS_URL}'>home</a>{ATTRIBUTE}</body></html>"
        return Response(page, mimetype="text/html")

    @app.get("/.env")
    def env() -> Response:
        # payloads in comments only: the check masks every value, everywhere in the report
        return Response(
            f"# {ALL}\nSECRET_KEY=hostile-secret-key-0c7e9a1d\nDEBUG=1\n",
            mimetype="text/plain",
        )

    @app.errorhandler(404)
    def not_found(_: Exception) -> Response:
        page = f"<html><body><h1>Not found</h1><p>{request.path}</p><p>{ALL}</p></body></html>"
        return Response(page, 404, mimetype="text/html")

    @app.errorhandler(Exception)
    def crash(exc: Exception) -> Response:
        import traceback

        return Response(traceback.format_exc() + BREAKOUT, 500, mimetype="text/html")

    @app.after_request
    def headers(response: Response) -> Response:
        response.headers["Server"] = f"nginx/1.25.3 {SCRIPT}"
        response.headers["X-Powered-By"] = f"PHP/8.1 {ATTRIBUTE} {BREAKOUT} {TEMPLATE} {JS_URL}"
        response.headers["X-Requested-Path"] = f"{request.full_path} {BREAKOUT}"
        response.headers["Link"] = f"<{JS_URL}>; rel=help"
        return response

    return app
