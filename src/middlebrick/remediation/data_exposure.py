"""Fixes for what response headers expose: caching of authenticated answers, CORS and version
banners (MB-DATA-001..005).

Facts the texts rely on: Starlette's `CORSMiddleware` with `allow_origins=['*']` and
`allow_credentials=True` answers with the request's own Origin; the `cors` package reflects the
Origin for `origin: true`; gunicorn's `Server` header carries no version.
"""

from __future__ import annotations

from middlebrick.remediation._snippet import Fix, flask_code

_FLASK_CORS = (
    flask_code("cors_allow_list")
    + "\n\n`cors_allow_list(app, ['https://app.example.com'])`. Remove every other place that "
    "sets `Access-Control-Allow-Origin` first — a later hook would overwrite this one. With "
    "Flask-CORS, the same is `CORS(app, origins=['https://app.example.com'], "
    "supports_credentials=True)`; never `supports_credentials=True` with the default `'*'`."
)

FIXES: dict[str, dict[str, Fix]] = {
    "MB-DATA-001": {
        "flask": (
            "Mark every response to a credentialed request as not storable, in one "
            "`after_request` hook (`no-store` alone is enough; `no-cache` is not a substitute):"
            "\n\n" + flask_code("no_store") + "\n\nPass your API-key header too: "
            "`no_store(app, credential_headers=('Authorization', 'X-API-Key'))`."
        ),
        "fastapi": (
            "Set `Cache-Control: no-store` on authenticated responses in a middleware:\n\n"
            "```python\n"
            '@app.middleware("http")\n'
            "async def no_store(request, call_next):\n"
            "    response = await call_next(request)\n"
            '    if "authorization" in request.headers:\n'
            '        response.headers["Cache-Control"] = "no-store"\n'
            "    return response\n"
            "```"
        ),
        "django": (
            "Decorate authenticated views with `django.views.decorators.cache.never_cache` (it "
            "sends `no-store` among others), or set `response['Cache-Control'] = 'no-store'` in a "
            "middleware for every authenticated API response."
        ),
        "express": (
            "Send `res.set('Cache-Control', 'no-store')` from a middleware mounted before the "
            "authenticated routers, e.g. `app.use('/api', (req, res, next) => { "
            "res.set('Cache-Control', 'no-store'); next(); })`."
        ),
        "generic": (
            "Send `Cache-Control: no-store` on every response to an authenticated request (and on "
            "responses of endpoints that require authentication). `private, no-store` is fine; "
            "`no-cache` and `Pragma` alone still let the response be stored."
        ),
    },
    "MB-DATA-002": {
        "flask": (
            "Do not echo the request's `Origin`: compare it with a fixed allow-list before "
            "granting anything, and send `Vary: Origin`:\n\n" + _FLASK_CORS
        ),
        "fastapi": (
            "Give `CORSMiddleware` exact origins: `allow_origins=['https://app.example.com']`. "
            "Starlette answers `allow_origins=['*']` together with `allow_credentials=True` with "
            "the caller's own Origin — exactly this finding — and `allow_origin_regex='.*'` does "
            "the same."
        ),
        "django": (
            "With django-cors-headers set `CORS_ALLOWED_ORIGINS = ['https://app.example.com']`; "
            "never `CORS_ALLOW_ALL_ORIGINS = True` (or a catch-all `CORS_ALLOWED_ORIGIN_REGEXES`) "
            "with `CORS_ALLOW_CREDENTIALS = True`."
        ),
        "express": (
            "Give the `cors` package a list, not `origin: true` (which reflects any Origin): "
            "`cors({ origin: ['https://app.example.com'], credentials: true })`."
        ),
        "generic": (
            "Only send `Access-Control-Allow-Origin` for origins on a fixed allow-list, compared "
            "exactly (scheme, host and port), and send `Vary: Origin`. Never reflect the request's "
            "Origin while allowing credentials."
        ),
    },
    "MB-DATA-003": {
        "flask": (
            "Remove `null` from the allowed origins — sandboxed frames, `data:` URLs and local "
            "files all send `Origin: null`. The allow-list below refuses it outright:\n\n"
            + _FLASK_CORS
        ),
        "fastapi": "Remove `'null'` from `CORSMiddleware`'s `allow_origins` (and from any regex).",
        "django": (
            "Remove `'null'` from django-cors-headers' `CORS_ALLOWED_ORIGINS` and from any "
            "`CORS_ALLOWED_ORIGIN_REGEXES`."
        ),
        "express": "Remove `'null'` from the `cors` `origin` list or callback.",
        "generic": (
            "Never allow the origin `null`: any attacker can make a browser send it (sandboxed "
            "iframes, `data:` URLs). Allow only the exact origins of your own front ends."
        ),
    },
    "MB-DATA-004": {
        "flask": (
            "Choose one: public data with `Access-Control-Allow-Origin: *` and no credentials, or "
            "credentialed requests from an allow-list:\n\n" + _FLASK_CORS
        ),
        "fastapi": (
            "Do not \"fix\" this with `allow_credentials=True` on `allow_origins=['*']` — "
            "Starlette then reflects every Origin (MB-DATA-002). Either drop credentials, or list "
            "exact origins."
        ),
        "django": (
            "Either `CORS_ALLOW_ALL_ORIGINS = True` without `CORS_ALLOW_CREDENTIALS`, or "
            "`CORS_ALLOWED_ORIGINS = [...]` with it; remove any hand-set "
            "`Access-Control-Allow-Credentials` header."
        ),
        "express": (
            "Drop `credentials: true` from `cors({ origin: '*' })`, or replace `'*'` with a list "
            "of exact origins — not with `origin: true`, which reflects everyone."
        ),
        "generic": (
            "Drop `Access-Control-Allow-Credentials: true` from wildcard responses, or replace the "
            "wildcard with an allow-list of exact origins if the API really needs credentials "
            "cross-origin."
        ),
    },
    "MB-DATA-005": {
        "flask": (
            "The Werkzeug development server announces itself (`Server: Werkzeug/x Python/y`) "
            "and no Flask code can remove that: never expose it. Serve the app with gunicorn "
            "(its `Server: gunicorn` carries no version) or uWSGI behind a reverse proxy, and "
            "hide versions there (nginx: `server_tokens off;`)."
        ),
        "fastapi": (
            "Start uvicorn with `--no-server-header` (or `server_header=False`) and hide versions "
            "at the proxy (`server_tokens off;`)."
        ),
        "django": (
            "Do not serve production traffic with `runserver` (it sends `WSGIServer/x CPython/y`); "
            "use gunicorn behind a proxy with `server_tokens off;`."
        ),
        "express": (
            "Call `app.disable('x-powered-by')` (helmet removes it too) and hide the proxy's "
            "version (`server_tokens off;`)."
        ),
        "generic": (
            "Remove version numbers from `Server` and drop `X-Powered-By`, `X-AspNet-Version` and "
            "similar headers at the application server or reverse proxy."
        ),
    },
}
