"""Fixes for Strict-Transport-Security (MB-ENC-005..007).

Facts the texts rely on: nginx `add_header` skips error answers without `always` and is not
inherited by a block that has its own `add_header`; Django's `SecurityMiddleware` adds HSTS to
HTTPS responses only; helmet 8 sends `max-age=31536000; includeSubDomains` (older majors 180 days);
Express's final handler keeps headers set by earlier middleware.
"""

from __future__ import annotations

from middlebrick.remediation._snippet import Fix, flask_code

_NGINX_HSTS = (
    'nginx: `add_header Strict-Transport-Security "max-age=31536000; includeSubDomains" always;` '
    "in the `server` block (without `always`, 4xx/5xx answers lack it)"
)
_FLASK_HSTS = (
    flask_code("hsts")
    + "\n\n`after_request` hooks also run for `abort()` errors, 401s from Flask-HTTPAuth and "
    "redirects, so every HTTPS answer carries one policy. `includeSubDomains` covers every "
    "subdomain: drop it if some are still HTTP-only."
)
_STARLETTE_HSTS = (
    "\n\n```python\n"
    '@app.middleware("http")\n'
    "async def hsts(request, call_next):\n"
    "    response = await call_next(request)\n"
    '    if request.url.scheme == "https":\n'
    '        response.headers["Strict-Transport-Security"] = (\n'
    '            "max-age=31536000; includeSubDomains"\n'
    "        )\n"
    "    return response\n"
    "```"
)

FIXES: dict[str, dict[str, Fix]] = {
    "MB-ENC-005": {
        "flask": (
            "Send HSTS on every HTTPS response, from the app or at the proxy ("
            + _NGINX_HSTS
            + "):\n\n"
            + _FLASK_HSTS
        ),
        "fastapi": (
            "Starlette has no HSTS setting: add it at the proxy ("
            + _NGINX_HSTS
            + ") or in one app-wide middleware (behind a proxy, run uvicorn with "
            "`--forwarded-allow-ips` set to it so `request.url.scheme` is the client's):"
            + _STARLETTE_HSTS
        ),
        "django": (
            "Set `SECURE_HSTS_SECONDS = 31536000` and `SECURE_HSTS_INCLUDE_SUBDOMAINS = True` "
            "with `SecurityMiddleware` enabled (it adds the header to HTTPS responses only)."
        ),
        "express": (
            "Use helmet: `app.use(helmet())` first; helmet 8 sends `max-age=31536000; "
            "includeSubDomains` (older majors: 180 days — pass `strictTransportSecurity: { "
            "maxAge: 31536000 }`)."
        ),
        "generic": (
            "Send `Strict-Transport-Security: max-age=31536000; includeSubDomains` on every HTTPS "
            "response, from the proxy (" + _NGINX_HSTS + ") or the app."
        ),
    },
    "MB-ENC-006": {
        "flask": (
            "Set exactly one header with at least a year, assigning it (not `add`), in one place "
            "— not also in the proxy, and not with a short `max-age` in some view:\n\n"
            + _FLASK_HSTS
        ),
        "fastapi": (
            "Write the header once, in one middleware or at the proxy, as "
            "`max-age=31536000; includeSubDomains` (seconds, one of each directive):"
            + _STARLETTE_HSTS
        ),
        "django": (
            "Set `SECURE_HSTS_SECONDS = 31536000` (an integer) and let `SecurityMiddleware` be the "
            "only thing that writes the header."
        ),
        "express": (
            "Configure helmet once: `helmet({ strictTransportSecurity: { maxAge: 31536000 } })` "
            "(seconds, not milliseconds), and do not set the header again in the proxy."
        ),
        "generic": (
            "Send exactly one header, `Strict-Transport-Security: max-age=31536000; "
            "includeSubDomains`: at least one year, a plain number of seconds, directives "
            "separated by `;` and each given once. If both the proxy and the app set it, keep one. "
            "Use `max-age=0` only to deliberately retire HSTS."
        ),
    },
    "MB-ENC-007": {
        "flask": (
            "Set HSTS once for the whole app, not in individual views or blueprints and not only "
            "on successful responses:\n\n" + _FLASK_HSTS
        ),
        "fastapi": (
            "Set it in an app-wide middleware, not per route or in a dependency, so 401, 404 and "
            "validation errors carry it too, or at the proxy ("
            + _NGINX_HSTS
            + "):"
            + _STARLETTE_HSTS
        ),
        "django": (
            "Rely on `SecurityMiddleware` (`SECURE_HSTS_SECONDS`) for every response rather than "
            "setting the header in views."
        ),
        "express": (
            "Mount `helmet()` with `app.use` before every router and static handler, not inside "
            "route handlers; then 404s and errors from Express's final handler carry it too."
        ),
        "generic": (
            "Add the header in one place that sees every response, including errors and redirects: "
            "the proxy (" + _NGINX_HSTS + "; a `location` with its own `add_header` does not "
            "inherit the server's, so repeat it there) or an application-wide middleware."
        ),
    },
}
