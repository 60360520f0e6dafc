"""Fixes for the data exposure checks."""

from __future__ import annotations

FIXES: dict[str, dict[str, str]] = {
    "MB-DATA-001": {
        "flask": (
            "Mark every authenticated response as not storable, in one `after_request` hook "
            "(`no-store` alone is enough; `no-cache` is not a substitute):\n\n"
            "```python\n"
            "@app.after_request\n"
            "def no_store(response):\n"
            "    if request.authorization is not None:\n"
            '        response.headers["Cache-Control"] = "no-store"\n'
            "    return response\n"
            "```"
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
            "Do not echo the request's `Origin`. Use Flask-CORS with an explicit allow-list: "
            "`CORS(app, origins=['https://app.example.com'], supports_credentials=True)`, or "
            "compare `request.headers.get('Origin')` against a fixed set before setting "
            "`Access-Control-Allow-Origin`, and add `Vary: Origin`."
        ),
        "fastapi": (
            "Configure `CORSMiddleware` with `allow_origins=['https://app.example.com']` (a list "
            "of exact origins), never `allow_origin_regex='.*'` together with "
            "`allow_credentials=True`."
        ),
        "django": (
            "With django-cors-headers set `CORS_ALLOWED_ORIGINS = ['https://app.example.com']`; "
            "never `CORS_ALLOW_ALL_ORIGINS = True` with `CORS_ALLOW_CREDENTIALS = True`."
        ),
        "express": (
            "Give the `cors` package a list, not `origin: true`: "
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
            "Remove `null` from the allowed origins (Flask-CORS `origins=` list or your own "
            "handler); sandboxed frames and local files can all send `Origin: null`."
        ),
        "generic": (
            "Never allow the origin `null`: any attacker can make a browser send it (sandboxed "
            "iframes, `data:` URLs). Allow only the exact origins of your own front ends."
        ),
    },
    "MB-DATA-004": {
        "flask": (
            "Choose one: public data with `Access-Control-Allow-Origin: *` and no credentials, or "
            "credentialed requests from an allow-list (`CORS(app, origins=[...], "
            "supports_credentials=True)`). Do not send both headers."
        ),
        "generic": (
            "Drop `Access-Control-Allow-Credentials: true` from wildcard responses, or replace the "
            "wildcard with an allow-list of exact origins if the API really needs credentials "
            "cross-origin."
        ),
    },
    "MB-DATA-005": {
        "flask": (
            "The Werkzeug development server announces itself (`Server: Werkzeug/x Python/y`); "
            "never expose it. Serve the app with gunicorn or uWSGI behind a reverse proxy and hide "
            "versions there (nginx: `server_tokens off;`)."
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
            "Call `app.disable('x-powered-by')` (or use helmet's `hidePoweredBy`) and hide the "
            "proxy's version (`server_tokens off;`)."
        ),
        "generic": (
            "Remove version numbers from `Server` and drop `X-Powered-By`, `X-AspNet-Version` and "
            "similar headers at the application server or reverse proxy."
        ),
    },
    "MB-DATA-007": {
        "flask": (
            "Serve only the app: run it from a directory that holds no `.env`, `.git`, backups or "
            "sources under its static folder, never point `static_folder` (or nginx `root`) at the "
            "project root, and deny dotfiles at the proxy (`location ~ /\\. { deny all; }`). Then "
            "rotate every secret the file held: it has been public."
        ),
        "generic": (
            "Remove the file from the web root and deny dotfiles, backups and sources at the "
            "proxy; deploy build artefacts, not the working tree. Rotate every credential the file "
            "contained — assume it has been downloaded."
        ),
    },
    "MB-DATA-008": {
        "flask": (
            "Write logs outside any served directory (or to stdout for the platform to collect), "
            "remove the route or static mapping that serves them, and never log credentials: drop "
            "`Authorization` headers and passwords from log records (a `logging.Filter` that "
            "redacts them). Rotate the passwords and tokens that were logged."
        ),
        "generic": (
            "Keep logs out of the web root, never log credentials or `Authorization` headers, and "
            "rotate every credential that appears in the exposed log."
        ),
    },
    "MB-DATA-009": {
        "flask": (
            "Never return tracebacks: run with `debug=False` (and no `FLASK_DEBUG`), and answer "
            "errors with a structured body while logging the details server-side:\n\n"
            "```python\n"
            "@app.errorhandler(Exception)\n"
            "def internal_error(exc):\n"
            '    app.logger.exception("unhandled error")\n'
            '    return {"type": "about:blank", "title": "Internal Server Error", "status": 500}, 500\n'
            "```\n\n"
            "Validate path and query values (`<int:item_id>` converters) so bad input is a 404/400, "
            "and use parameterised SQL."
        ),
        "django": "Set `DEBUG = False` in production and configure `ADMINS`/logging for errors.",
        "express": "Set `NODE_ENV=production` and use an error handler that does not send `err.stack`.",
        "generic": (
            "Catch unhandled exceptions at the edge of the application, log them, and answer "
            "`application/problem+json` without stack traces, file paths or SQL."
        ),
    },
    "MB-DATA-010": {
        "flask": (
            "Turn the debugger off everywhere but a developer's machine: never `app.run(debug=True)` "
            "or `FLASK_DEBUG=1` in a deployment, never wrap the app in `DebuggedApplication`, and "
            "serve with gunicorn/uWSGI. Assume the host is compromised if the console was "
            "reachable: rotate its secrets."
        ),
        "generic": (
            "Disable interactive debuggers and debug toolbars in every deployed environment and "
            "remove their routes; treat any host where one was reachable as compromised."
        ),
    },
    "MB-DATA-011": {
        "generic": (
            "Return personal data only to callers entitled to it, and only the fields they need; "
            "mask card numbers (last four digits), IBANs and national ids in responses."
        ),
    },
    "MB-DATA-012": {
        "generic": (
            "Never send credentials in API responses; load them server-side from a secret store. "
            "Revoke and rotate every key that was returned."
        ),
    },
    "MB-DATA-013": {
        "flask": (
            "Exclude password fields from every response schema (marshmallow `load_only=True`, "
            "pydantic `exclude`), and store passwords only as `generate_password_hash(...)` hashes."
        ),
        "generic": (
            "Never return password hashes or passwords; store passwords with a slow salted hash "
            "(argon2, scrypt, bcrypt) and mark the field write-only in the API description."
        ),
    },
    "MB-DATA-014": {
        "generic": (
            "Do not echo credentials: build responses from an explicit response schema, never "
            "from the request or from the stored credential record."
        ),
    },
    "MB-DATA-015": {
        "flask": (
            "Serialise through an explicit schema (marshmallow/pydantic response model) instead of "
            "`jsonify(model.__dict__)`, and keep the OpenAPI response schema in step with it."
        ),
        "generic": (
            "Return only the properties the response schema declares: serialise through a "
            "response model, and document (or remove) anything else."
        ),
    },
    "MB-DATA-016": {
        "flask": (
            "Remove routes that dump configuration (`jsonify(app.config)`, `dict(os.environ)`) "
            "and keep operations endpoints off the public listener: serve metrics on a port of "
            "their own (`prometheus_client.start_http_server(9100)`, not a `/metrics` route on the "
            "app) and never put credentials in labels; in the Apache or nginx in front of the app, "
            "restrict `server-status`/`stub_status` to local clients (`Require local`; `allow "
            "127.0.0.1; deny all;`) and delete stray `phpinfo()` files. Rotate every secret the "
            "endpoint showed."
        ),
        "generic": (
            "Take management endpoints off the public interface. Spring Boot: "
            "`management.endpoints.web.exposure.include=health,info`, `management.server.port` "
            "on an internal port, Spring Security on `/actuator/**`, never expose `heapdump` or "
            "`env`, and keep `management.endpoint.env.show-values=NEVER`. Apache: `<Location "
            "/server-status> Require local`; nginx: `allow 127.0.0.1; deny all;` around "
            "`stub_status`; PHP: delete `phpinfo()` files; Go: serve `net/http/pprof` and "
            "`expvar` on a localhost listener, not the public mux. Rotate every secret that was "
            "visible, and treat a downloadable heap dump as a leak of all of them."
        ),
    },
    "MB-DATA-017": {
        "flask": (
            "Never put a credential in a URL you return: send reset and login tokens by e-mail and "
            "accept them in a POST body, put API keys and session ids in headers or cookies, and "
            "build `Location` and `Link` URLs with `url_for(...)` from non-secret ids only. "
            "Rotate the tokens that were handed out."
        ),
        "generic": (
            "Keep credentials out of URLs the API returns (redirects, `Link` headers, links in "
            "bodies): carry them in headers, cookies or POST bodies, and rotate those exposed."
        ),
    },
}
