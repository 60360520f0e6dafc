"""Fixes for the configuration checks."""

from __future__ import annotations

from middlebrick.remediation._snippet import Fix, flask_code

FIXES: dict[str, dict[str, Fix]] = {
    "MB-CONF-001": {
        "flask": (
            "Send `X-Content-Type-Options: nosniff` on every response, from one hook:\n\n"
            + flask_code("nosniff")
        ),
        "fastapi": (
            "Set the header in a middleware: `response.headers['X-Content-Type-Options'] = "
            "'nosniff'` for every response."
        ),
        "django": (
            "Keep `django.middleware.security.SecurityMiddleware` enabled with "
            "`SECURE_CONTENT_TYPE_NOSNIFF = True` (the default)."
        ),
        "express": "Use helmet (`app.use(helmet())`), which sends `nosniff` by default.",
        "generic": "Send `X-Content-Type-Options: nosniff` on every API response.",
    },
    "MB-CONF-002": {
        "flask": (
            "Return JSON with `jsonify(...)` (or return a dict/list from the view), not "
            "`json.dumps(...)` as a string, which Flask sends as `text/html`."
        ),
        "fastapi": (
            "Return models, dicts or `JSONResponse`; do not wrap `json.dumps` output in "
            "`HTMLResponse` or `PlainTextResponse`."
        ),
        "django": "Return `JsonResponse(data)` instead of `HttpResponse(json.dumps(data))`.",
        "express": "Use `res.json(data)` rather than `res.send(JSON.stringify(data))`.",
        "generic": (
            "Serve JSON bodies with `Content-Type: application/json` (or a `+json` type such as "
            "`application/problem+json` for errors)."
        ),
    },
}
