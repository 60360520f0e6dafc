"""Fixes for what the server leaks beside the API: files, logs, error pages, debuggers and
management endpoints (MB-DATA-007..010, MB-DATA-016)."""

from __future__ import annotations

from middlebrick.remediation._snippet import Fix, flask_code, per_scheme

# what a served log with credentials means, by scheme
_LOGGED = {
    "basic": ("A logged Basic header is the password in base64: change every password in the log."),
    "bearer": "Revoke every token in the log.",
    "apikey": (
        "Rotate every key in the log, and mask your key header (`X-API-Key`), not only "
        "`Authorization`."
    ),
    "any": "Rotate every credential that appears in the exposed log.",
}
_NOT_SERVED = (
    "Write logs outside any served directory (or to stdout for the platform to collect) and "
    "remove the route or static mapping that serves them."
)

FIXES: dict[str, dict[str, Fix]] = {
    "MB-DATA-007": {
        "flask": (
            "Serve only the app: run it from a directory that holds no `.env`, `.git`, backups or "
            "sources under its static folder, never point `static_folder` (or nginx `root`) at the "
            "project root, and deny dotfiles at the proxy (`location ~ /\\. { deny all; }`). Then "
            "rotate every secret the file held: it has been public."
        ),
        "fastapi": (
            "Mount `StaticFiles(directory=...)` on a dedicated folder, never the project root; "
            "build images from an allow-list (`.dockerignore` excluding `.env`, `.git`, dumps), "
            "and deny dotfiles at the proxy. Rotate every secret the file held."
        ),
        "django": (
            "Let the web server serve only `STATIC_ROOT` and `MEDIA_ROOT`, both outside the "
            "project tree (`collectstatic` copies what is meant to be public), never `root` at "
            "the project directory; keep `settings.py` secrets in the environment. Rotate every "
            "secret the file held, `SECRET_KEY` included."
        ),
        "express": (
            "Point `express.static` at a dedicated `public/` folder and pass `dotfiles: 'deny'`; "
            "never `express.static(__dirname)`. Rotate every secret the file held."
        ),
        "generic": (
            "Remove the file from the web root and deny dotfiles, backups and sources at the "
            "proxy; deploy build artefacts, not the working tree. Rotate every credential the file "
            "contained — assume it has been downloaded."
        ),
    },
    "MB-DATA-008": {
        "flask": per_scheme(
            _NOT_SERVED + " And never write credentials into logs: a filter on every handler "
            "masks them, whatever the code logs:\n\n"
            + flask_code("CredentialMask", "mask_credentials_in_logs")
            + "\n\nCall `mask_credentials_in_logs(app)` after logging is configured (handlers "
            "added later need `handler.addFilter(CredentialMask())`, or a `filters` entry in "
            "`dictConfig`).",
            **_LOGGED,
        ),
        "fastapi": per_scheme(
            _NOT_SERVED + " uvicorn's access log has no headers, but your own middleware may log "
            "`request.headers`: log a copy without `authorization`, `cookie` and API-key headers, "
            "or add a `logging.Filter` that masks them to the handlers.",
            **_LOGGED,
        ),
        "django": per_scheme(
            _NOT_SERVED + " Django's error reports hide settings with secret-looking names, but "
            "not what your own code logs: never log `request.headers` or `request.META` "
            "wholesale, or attach a masking `logging.Filter` to the handlers in `LOGGING`.",
            **_LOGGED,
        ),
        "express": per_scheme(
            _NOT_SERVED + " With pino-http, `redact: ['req.headers.authorization', "
            "'req.headers.cookie', 'req.headers[\"x-api-key\"]']`; morgan's predefined formats "
            "log no request headers, but custom `:req[authorization]` tokens do.",
            **_LOGGED,
        ),
        "generic": per_scheme(
            "Keep logs out of the web root and never log credentials or `Authorization` headers "
            "(mask them in the logging pipeline).",
            **_LOGGED,
        ),
    },
    "MB-DATA-009": {
        "flask": (
            "Never return tracebacks: run with `debug=False` (and no `FLASK_DEBUG`), and answer "
            "every error as `application/problem+json` while logging the details server-side:"
            "\n\n" + flask_code("problem_errors") + "\n\nValidate path and query values "
            "(`<int:item_id>` converters) so bad input is a 404/400, and use parameterised SQL."
        ),
        "fastapi": (
            "Keep `FastAPI(debug=False)` (the default; `debug=True` returns tracebacks) and "
            "register `@app.exception_handler(Exception)` returning `JSONResponse({'title': "
            "'Internal Server Error', 'status': 500}, status_code=500, "
            "media_type='application/problem+json')` after logging the exception; let pydantic "
            "models validate inputs so bad values are a 422, not a crash."
        ),
        "django": (
            "Set `DEBUG = False` in production (the yellow debug page shows code and settings), "
            "configure `ADMINS`/`LOGGING` for errors, and with DRF return problem+json from a "
            "custom `EXCEPTION_HANDLER`."
        ),
        "express": (
            "Set `NODE_ENV=production` (Express's final handler then omits the stack) and add a "
            "last error middleware: `app.use((err, req, res, next) => { log(err); "
            "res.status(500).type('application/problem+json').json({ title: 'Internal Server "
            "Error', status: 500 }); })` — never `res.send(err.stack)`."
        ),
        "generic": (
            "Catch unhandled exceptions at the edge of the application, log them, and answer "
            "`application/problem+json` without stack traces, file paths or SQL."
        ),
    },
    "MB-DATA-010": {
        "flask": (
            "Turn the debugger off everywhere but a developer's machine: never `app.run(debug=True)` "
            "or `FLASK_DEBUG=1` in a deployment, never wrap the app in `DebuggedApplication`, and "
            "serve with gunicorn/uWSGI; answer errors with `problem_errors` (MB-DATA-009). Assume "
            "the host is compromised if the console was reachable: rotate its secrets."
        ),
        "fastapi": (
            "Remove debug toolbars (fastapi-debug-toolbar) and remote debuggers (`debugpy` "
            "listening on a public address) from production, keep `debug=False`, and treat any "
            "host where one was reachable as compromised."
        ),
        "django": (
            "Keep `DEBUG = False`, take `debug_toolbar` out of `INSTALLED_APPS`, `MIDDLEWARE` and "
            "the URLconf of production settings, and never run `runserver_plus` "
            "(django-extensions, the Werkzeug debugger) outside development. Treat the host as "
            "compromised if the console was reachable."
        ),
        "express": (
            "Never start Node with `--inspect=0.0.0.0` (or any public address) in production — "
            "the inspector runs arbitrary code — and remove development-only middleware such as "
            "`errorhandler`. Treat the host as compromised if a debugger was reachable."
        ),
        "generic": (
            "Disable interactive debuggers and debug toolbars in every deployed environment and "
            "remove their routes; treat any host where one was reachable as compromised."
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
        "fastapi": (
            "Remove routes that return `os.environ` or settings objects, serve metrics on a port "
            "of their own (`prometheus_client.start_http_server(9100)`) rather than mounting "
            "`make_asgi_app()` on the public app, and restrict `server-status`/`stub_status` at "
            "the proxy to local clients. Rotate every secret the endpoint showed."
        ),
        "django": (
            "Remove views that dump settings or the environment, keep metrics "
            "(django-prometheus' `/metrics`) and admin tooling off the public host or behind the "
            "proxy's `allow 127.0.0.1; deny all;`, and restrict `server-status`/`stub_status` the "
            "same way. Rotate every secret the endpoint showed."
        ),
        "express": (
            "Remove routes that return `process.env` or the config object, serve prom-client "
            "metrics and status monitors on an internal port or behind authentication, and "
            "restrict `server-status`/`stub_status` at the proxy. Rotate every secret the "
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
}
