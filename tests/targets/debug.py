"""Servers with operations endpoints left on (Spring Boot Actuator, Apache and nginx status pages,
phpinfo, Go expvar/pprof, Prometheus metrics, a configuration dump), with planted secrets, and
twins that only look as if they leak: health checks, plain counters, masked settings, public
feature flags, endpoints behind a login, a soft-404 server and a single-page app."""

from __future__ import annotations

import io
import json
import struct
from collections.abc import Callable

from flask import Flask, Response, request, send_file
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse
from starlette.routing import Route
from werkzeug.exceptions import NotFound
from werkzeug.middleware.dispatcher import DispatcherMiddleware

# canaries: searched for in every report
ENV_DB_PASSWORD = "planted-actuator-db-9c41e7"
ENV_JWT_SECRET = "planted-jwt-signing-3b8f20"
PHP_DB_PASSWORD = "planted-php-db-5e62aa"
PHP_APP_KEY = "base64:cGxhbnRlZC1sYXJhdmVsLWFwcC1rZXk="
STATUS_TOKEN = "planted-status-reset-4c9e03"
METRICS_DSN_PASSWORD = "planted-metrics-dsn-0a4b8e"
METRICS_TOKEN = "planted-metrics-token-71d3c9"
EXPVAR_PASSWORD = "planted-expvar-pass-2f7d61"
CONFIG_DB_PASSWORD = "planted-config-db-8e2c55"
CONFIG_SIGNING_KEY = "planted-config-signing-6a90d1"
PLANTED = (
    ENV_DB_PASSWORD,
    ENV_JWT_SECRET,
    PHP_DB_PASSWORD,
    PHP_APP_KEY,
    STATUS_TOKEN,
    METRICS_DSN_PASSWORD,
    METRICS_TOKEN,
    EXPVAR_PASSWORD,
    CONFIG_DB_PASSWORD,
    CONFIG_SIGNING_KEY,
)


def _json(document: object, status: int = 200) -> Response:
    return Response(
        json.dumps(document), status=status, mimetype="application/vnd.spring-boot.actuator.v3+json"
    )


# --- Spring Boot ---------------------------------------------------------------------------------
def _links(names: tuple[str, ...]) -> dict[str, object]:
    base = request.host_url.rstrip("/") + "/actuator"
    links: dict[str, object] = {"self": {"href": base, "templated": False}}
    for name in names:
        links[name] = {"href": f"{base}/{name}", "templated": False}
        if name in ("env", "configprops", "loggers"):
            links[f"{name}-{'toMatch' if name == 'env' else 'name'}"] = {
                "href": f"{base}/{name}/{{{'toMatch' if name == 'env' else 'name'}}}",
                "templated": True,
            }
    if "health" in names:
        links["health-path"] = {"href": f"{base}/health/{{*path}}", "templated": True}
    return {"_links": links}


def _property(value: object, origin: str | None = None) -> dict[str, object]:
    return {"value": value, **({"origin": origin} if origin else {})}


ACTUATOR_ENV = {
    # Spring Boot 3 with management.endpoint.env.show-values=ALWAYS: nothing is masked
    "activeProfiles": ["prod"],
    "propertySources": [
        {"name": "server.ports", "properties": {"local.server.port": _property(8080)}},
        {
            "name": "systemProperties",
            "properties": {
                "java.version": _property("17.0.9"),
                "sun.java.command": _property("/app/orders.jar --spring.profiles.active=prod"),
                "user.dir": _property("/app"),
            },
        },
        {
            "name": "systemEnvironment",
            "properties": {
                "PATH": _property("/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin", "env"),
                "PWD": _property("/app", 'System Environment Property "PWD"'),
                "DB_PASSWORD": _property(
                    ENV_DB_PASSWORD, 'System Environment Property "DB_PASSWORD"'
                ),
                "JAVA_HOME": _property(
                    "/opt/java/openjdk", 'System Environment Property "JAVA_HOME"'
                ),
            },
        },
        {
            "name": "Config resource 'class path resource [application.yml]' via location "
            "'optional:classpath:/'",
            "properties": {
                "spring.datasource.url": _property(
                    "jdbc:postgresql://db.internal:5432/orders", "application.yml:3:10"
                ),
                "spring.datasource.username": _property("orders", "application.yml:4:15"),
                "spring.datasource.password": _property("${DB_PASSWORD}", "application.yml:5:15"),
                "app.jwt.signing-secret": _property(ENV_JWT_SECRET, "application.yml:9:21"),
                "app.jwt.token-ttl": _property("PT15M", "application.yml:10:16"),
                "server.ssl.key-store": _property(
                    "classpath:keystore.p12", "application.yml:14:17"
                ),
                "app.features.new-checkout": _property(True, "application.yml:17:21"),
            },
        },
    ],
}
CONFIGPROPS = {
    "contexts": {
        "orders": {
            "beans": {
                "spring.datasource-org.springframework.boot.autoconfigure.jdbc.DataSourceProperties": {  # noqa: E501
                    "prefix": "spring.datasource",
                    "properties": {
                        "url": "jdbc:postgresql://db.internal:5432/orders",
                        "username": "orders",
                        "password": "******",
                        "generateUniqueName": True,
                    },
                    "inputs": {"password": {"value": "******", "origin": "application.yml:5:15"}},
                },
                "app.jwt-com.example.orders.JwtProperties": {
                    "prefix": "app.jwt",
                    "properties": {"signingSecret": "******", "tokenTtl": "PT15M"},
                },
            }
        }
    }
}
MAPPINGS = {
    "contexts": {
        "orders": {
            "mappings": {
                "dispatcherServlets": {
                    "dispatcherServlet": [
                        {
                            "handler": "com.example.orders.OrderController#list()",
                            "predicate": "{GET [/v1/orders]}",
                            "details": {
                                "requestMappingConditions": {
                                    "methods": ["GET"],
                                    "patterns": ["/v1/orders"],
                                }
                            },
                        },
                        {
                            "handler": "com.example.orders.AdminController#refund(Long)",
                            "predicate": "{POST [/internal/admin/refunds/{id}]}",
                            "details": {
                                "requestMappingConditions": {
                                    "methods": ["POST"],
                                    "patterns": ["/internal/admin/refunds/{id}"],
                                }
                            },
                        },
                    ]
                },
                "servletFilters": [
                    {"name": "springSecurityFilterChain", "urlPatternMappings": ["/*"]}
                ],
            }
        }
    }
}
LOGGERS = {
    "levels": ["OFF", "ERROR", "WARN", "INFO", "DEBUG", "TRACE"],
    "loggers": {
        "ROOT": {"configuredLevel": "INFO", "effectiveLevel": "INFO"},
        "com.example.orders": {"effectiveLevel": "INFO"},
        "org.springframework.security": {"effectiveLevel": "INFO"},
    },
    "groups": {"web": {"members": ["org.springframework.web"]}},
}
# HotSpot's hprof header: magic, identifier size, timestamp; then records
HEAP_DUMP = b"JAVA PROFILE 1.0.2\x00" + struct.pack(">IQ", 8, 1_764_382_621_000) + bytes(256 * 1024)


def spring_boot_app() -> Flask:
    """A Spring Boot service (as Flask) with most Actuator endpoints exposed to everyone."""
    app = Flask("spring-boot")
    exposed = ("health", "info", "env", "heapdump", "configprops", "mappings", "loggers")

    @app.get("/")
    def index() -> Response:
        return Response('{"service": "orders"}', mimetype="application/json")

    @app.get("/actuator")
    def actuator() -> Response:
        return _json(_links(exposed))

    @app.get("/actuator/health")
    def health() -> Response:
        return _json({"status": "UP"})

    @app.get("/actuator/info")
    def info() -> Response:
        return _json({"app": {"name": "orders"}})

    documents = {"env": ACTUATOR_ENV, "configprops": CONFIGPROPS, "mappings": MAPPINGS}
    documents["loggers"] = LOGGERS
    for name, document in documents.items():
        app.add_url_rule(f"/actuator/{name}", endpoint=name, view_func=lambda d=document: _json(d))

    @app.get("/actuator/heapdump")
    def heapdump() -> Response:
        # Spring answers Range requests for resources; so does send_file(conditional=True)
        return send_file(
            io.BytesIO(HEAP_DUMP),
            mimetype="application/octet-stream",
            download_name="heapdump",
            conditional=True,
        )

    return app


def under_context_path(app: Flask, path: str) -> DispatcherMiddleware:
    """The app mounted below `path` (Spring's server.servlet.context-path); the root is 404."""
    return DispatcherMiddleware(NotFound(), {path: app})


def spring_boot_1_app() -> Flask:
    """An old Spring Boot 1.x service: `/env` at the root, every secret masked."""
    app = Flask("spring-boot-1")

    @app.get("/")
    def index() -> Response:
        return Response('{"service": "billing"}', mimetype="application/json")

    @app.get("/env")
    def env() -> Response:
        return Response(
            json.dumps(
                {
                    "profiles": ["production"],
                    "server.ports": {"local.server.port": 8080},
                    "systemEnvironment": {"DB_PASSWORD": "******", "HOME": "/root"},
                    "applicationConfig: [classpath:/application.properties]": {
                        "spring.datasource.url": "jdbc:mysql://billing-db:3306/billing",
                        "spring.datasource.password": "******",
                    },
                }
            ),
            mimetype="application/json",
        )

    return app


# --- web server pages: Apache, nginx, PHP --------------------------------------------------------
SERVER_STATUS = f"""<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 3.2 Final//EN">
<html><head>
<title>Apache Status</title>
</head><body>
<h1>Apache Server Status for orders.internal (via 10.0.3.7)</h1>

<dl><dt>Server Version: Apache/2.4.57 (Debian) OpenSSL/3.0.11 mod_wsgi/4.9.4 Python/3.11</dt>
<dt>Server MPM: event</dt>
<dt>Server Built: 2023-04-13T13:39:24
</dt></dl><hr /><dl>
<dt>Current Time: Saturday, 29-Nov-2025 02:17:01 UTC</dt>
<dt>Restart Time: Friday, 28-Nov-2025 06:00:02 UTC</dt>
<dt>Server uptime:  20 hours 16 minutes 59 seconds</dt>
<dt>Total accesses: 48213 - Total Traffic: 312.4 MB</dt>
<dt>3 requests currently being processed, 72 idle workers</dt>
</dl>
<table border="0"><tr><th>Srv</th><th>PID</th><th>Acc</th><th>M</th><th>CPU
</th><th>SS</th><th>Req</th><th>Dur</th><th>Conn</th><th>Child</th><th>Slot</th><th>Client</th><th>Protocol</th><th>VHost</th><th>Request</th></tr>

<tr><td><b>0-0</b></td><td>1432</td><td>0/12/12</td><td><b>W</b>
</td><td>0.03</td><td>0</td><td>0</td><td>0</td><td>0.0</td><td>0.04</td><td>0.04
</td><td>203.0.113.24</td><td>http/1.1</td><td nowrap>orders.example.com:443</td><td nowrap>GET /v1/password/reset?email=ann%40corp.test&amp;token={STATUS_TOKEN} HTTP/1.1</td></tr>

<tr><td><b>1-0</b></td><td>1433</td><td>0/9/9</td><td><b>K</b>
</td><td>0.01</td><td>1</td><td>2</td><td>2</td><td>0.0</td><td>0.02</td><td>0.02
</td><td>198.51.100.7</td><td>http/1.1</td><td nowrap>orders.example.com:443</td><td nowrap>GET /v1/orders?page=2 HTTP/1.1</td></tr>
</table>
</body></html>
"""  # noqa: E501
SERVER_INFO = """<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN">
<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="en" lang="en"><head>
<title>Server Information</title>
</head>
<body><h1 style="text-align: center">Apache Server Information</h1>
<dl><dt><tt>Subpages:<br /><a href="?config">Configuration Files</a>, <a href="?server">Server Settings</a></tt></dt></dl><hr />
<h2><a name="server">Server Settings</a></h2><dl><dt><strong>Server Version:</strong> <font size="+1"><tt>Apache/2.4.57 (Debian)</tt></font></dt>
<dt><strong>Server Root:</strong> <tt>/etc/apache2</tt></dt></dl><hr />
<dl><dt><a name="mod_wsgi.c"><strong>Module Name:</strong> <font size="+1"><tt><a href="?mod_wsgi.c">mod_wsgi.c</a></tt></font></a></dt></dl>
</body></html>
"""  # noqa: E501
STUB_STATUS = (  # nginx ends its lines with a space
    "Active connections: 3 \n"
    "server accepts handled requests\n"
    " 18342 18342 52791 \n"
    "Reading: 0 Writing: 1 Waiting: 2 \n"
)


def _phpinfo(environment: dict[str, str]) -> str:
    rows = "\n".join(
        f'<tr><td class="e">{name} </td><td class="v">{value} </td></tr>'
        for name, value in environment.items()
    )
    variables = "\n".join(
        f'<tr><td class="e">$_SERVER[\'{name}\']</td><td class="v">{value}</td></tr>'
        for name, value in environment.items()
    )
    return f"""<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" "DTD/xhtml1-transitional.dtd">
<html xmlns="http://www.w3.org/1999/xhtml"><head>
<style type="text/css">
body {{background-color: #fff; color: #222; font-family: sans-serif;}}
.e {{background-color: #ccf; width: 300px; font-weight: bold;}}
</style>
<title>PHP 8.2.12 - phpinfo()</title><meta name="ROBOTS" content="NOINDEX,NOFOLLOW,NOARCHIVE" /></head>
<body><div class="center">
<table>
<tr class="h"><td>
<a href="http://www.php.net/"><img border="0" src="data:image/png;base64,iVBORw0KGgo=" alt="PHP logo" /></a><h1 class="p">PHP Version 8.2.12</h1>
</td></tr>
</table>
<table>
<tr><td class="e">System </td><td class="v">Linux web-1 5.15.0-91-generic #101-Ubuntu SMP x86_64 </td></tr>
<tr><td class="e">Server API </td><td class="v">FPM/FastCGI </td></tr>
</table>
<h2><a name="module_mysqli">mysqli</a></h2>
<table>
<tr class="h"><th>Directive</th><th>Local Value</th><th>Master Value</th></tr>
<tr><td class="e">mysqli.default_pw</td><td class="v"><i>no value</i></td><td class="v"><i>no value</i></td></tr>
</table>
<h2>Environment</h2>
<table>
<tr class="h"><th>Variable</th><th>Value</th></tr>
{rows}
</table>
<h2>PHP Variables</h2>
<table>
<tr class="h"><th>Variable</th><th>Value</th></tr>
{variables}
<tr><td class="e">$_SERVER['MAIL_PASSWORD']</td><td class="v"><i>no value</i></td></tr>
</table>
</div></body></html>
"""  # noqa: E501


def web_server_pages() -> Flask:
    """A PHP/Python site behind Apache and nginx whose status pages and phpinfo files are public."""
    app = Flask("web-server-pages")
    pages: dict[str, tuple[str, str]] = {
        "/server-status": (SERVER_STATUS, "text/html"),
        "/server-info": (SERVER_INFO, "text/html"),
        "/nginx_status": (STUB_STATUS, "text/plain"),
        "/phpinfo.php": (
            _phpinfo(
                {
                    "HOSTNAME": "web-1",
                    "PWD": "/var/www/html",
                    "DB_HOST": "mysql.internal",
                    "DB_PASSWORD": PHP_DB_PASSWORD,
                    "APP_KEY": PHP_APP_KEY,
                    "MAIL_PASSWORD": "",
                    "REDIS_PASSWORD": "null",
                }
            ),
            "text/html",
        ),
        # a second leftover, on a host whose secrets come from a vault
        "/info.php": (
            _phpinfo({"HOSTNAME": "web-2", "DB_PASSWORD": "${DB_PASSWORD}", "APP_ENV": "prod"}),
            "text/html",
        ),
    }

    @app.get("/")
    def index() -> Response:
        return Response("<html><body><h1>Orders</h1></body></html>", mimetype="text/html")

    for path, (body, mimetype) in pages.items():
        app.add_url_rule(
            path,
            endpoint=path,
            view_func=lambda body=body, mimetype=mimetype: Response(body, mimetype=mimetype),
        )
    return app


# --- a Go service --------------------------------------------------------------------------------
METRICS_WITH_SECRETS = f"""# HELP go_goroutines Number of goroutines that currently exist.
# TYPE go_goroutines gauge
go_goroutines 23
# HELP db_pool_connections Connections in the database pool.
# TYPE db_pool_connections gauge
db_pool_connections{{dsn="postgres://orders:{METRICS_DSN_PASSWORD}@db.internal:5432/orders",state="idle"}} 4
db_pool_connections{{dsn="postgres://orders:{METRICS_DSN_PASSWORD}@db.internal:5432/orders",state="in_use"}} 1
# HELP upstream_requests_total Calls to upstream APIs.
# TYPE upstream_requests_total counter
upstream_requests_total{{upstream="payments",api_token="{METRICS_TOKEN}",code="200"}} 1027
"""  # noqa: E501
PPROF_INDEX = """<html>
<head>
<title>/debug/pprof/</title>
</head>
<body>
/debug/pprof/
<br>
<p>Set debug=1 as a query parameter to export in legacy text format</p>
<br>
Types of profiles available:
<table>
<thead><td>Count</td><td>Profile</td></thead>
<tr><td>2</td><td><a href='allocs?debug=1'>allocs</a></td></tr>
<tr><td>0</td><td><a href='block?debug=1'>block</a></td></tr>
<tr><td>0</td><td><a href='cmdline?debug=1'>cmdline</a></td></tr>
<tr><td>23</td><td><a href='goroutine?debug=1'>goroutine</a></td></tr>
<tr><td>2</td><td><a href='heap?debug=1'>heap</a></td></tr>
<tr><td>0</td><td><a href='profile?debug=1'>profile</a></td></tr>
</table>
<a href="goroutine?debug=2">full goroutine stack dump</a>
</body>
</html>
"""
EXPVAR = {
    "cmdline": [
        "/srv/orders",
        "-listen=:8080",
        "-db-user=orders",
        f"-db-password={EXPVAR_PASSWORD}",
    ],
    "memstats": {
        "Alloc": 4012352,
        "TotalAlloc": 9812312,
        "Sys": 13504520,
        "NumGC": 7,
        "BySize": [{"Size": 0, "Mallocs": 0, "Frees": 0}],
    },
    "orders_processed": 1834,
}
CONFIG_DUMP = {
    "service": "orders",
    "environment": "production",
    "database": {
        "host": "db.internal",
        "port": 5432,
        "user": "orders",
        "password": CONFIG_DB_PASSWORD,
    },
    "jwt": {"issuer": "https://auth.example.com", "signingKey": CONFIG_SIGNING_KEY},
    "features": {"new_checkout": True},
}


def go_service() -> Starlette:
    """A Go service (as Starlette): pprof, expvar and a config route on its public mux."""

    async def index(request: Request) -> JSONResponse:
        return JSONResponse({"service": "orders"})

    async def metrics(request: Request) -> PlainTextResponse:
        return PlainTextResponse(METRICS_WITH_SECRETS, media_type="text/plain; version=0.0.4")

    async def pprof(request: Request) -> HTMLResponse:
        return HTMLResponse(PPROF_INDEX)

    async def expvar(request: Request) -> JSONResponse:
        return JSONResponse(EXPVAR)

    async def config(request: Request) -> JSONResponse:
        return JSONResponse(CONFIG_DUMP)

    return Starlette(
        routes=[
            Route("/", index),
            Route("/metrics", metrics),
            Route("/debug/pprof/", pprof),
            Route("/debug/vars", expvar),
            Route("/config", config),
        ]
    )


# --- twins ---------------------------------------------------------------------------------------
CLEAN_METRICS = """# HELP http_requests_total Total HTTP requests.
# TYPE http_requests_total counter
http_requests_total{method="POST",path="/oauth/token",status="200"} 1520
http_requests_total{method="POST",path="/v1/password/reset",status="202"} 31
# HELP auth_token_refresh_total Access tokens refreshed.
# TYPE auth_token_refresh_total counter
auth_token_refresh_total 88
# HELP password_reset_emails_total Password reset e-mails sent.
# TYPE password_reset_emails_total counter
password_reset_emails_total 31
# HELP python_info Python platform information
# TYPE python_info gauge
python_info{implementation="CPython",major="3",minor="11",patchlevel="6",version="3.11.6"} 1.0
"""
MASKED_SETTINGS = {
    "DATABASE_URL": "postgres://orders:******@db.internal:5432/orders",
    "DATABASE_PASSWORD": "******",
    "SECRET_KEY": "<redacted>",
    "STRIPE_API_KEY": "${STRIPE_API_KEY}",
    "SENTRY_DSN": "",
    "REDIS_PASSWORD": None,
    "ADMIN_PASSWORD": "changeme",
    "SMTP_PASSWORD": "***",
    "LOG_LEVEL": "info",
}
PUBLIC_CONFIG = {
    "api_base": "https://api.example.com/v1",
    "stripe_publishable_key": "pk_live_51HqLyjWDarjtT1zdp7dcXg",
    "recaptcha_site_key": "6LeIxAcTAAAAAJcZVRqyHh71UMIEGNQ_MXjiZKhI",
    "mapbox_access_token": "pk.eyJ1Ijoib3JkZXJzIiwiYSI6ImNsMnF6In0.Qm9yZWRfcHVibGljX3Rva2Vu",
    "NEXT_PUBLIC_POSTHOG_KEY": "phc_Qm9yZWRwdWJsaWNwb3N0aG9na2V5MTIz",
    "firebase": {
        "apiKey": "AIzaSyB3xQ9vN2mK7pL4rT8wZ1cF6hJ0dG5sE2a",
        "authDomain": "orders-prod.firebaseapp.com",
        "projectId": "orders-prod",
        "appId": "1:901234567890:web:7a1b2c3d4e5f6a7b",
    },
    "features": {"dark_mode": True, "new_checkout": False, "password_strength_meter": True},
    "password_min_length": 12,
    "token_ttl_seconds": 900,
    "support": {
        "email": "support@example.com",
        "hint": "Forgot your password? Use the reset link.",
    },
}


def clean_service() -> Flask:
    """The fixed twin: Actuator shows only health and info, metrics are plain counters, settings
    endpoints mask their secrets, /config holds public settings, the rest is 401/403/404."""
    app = Flask("clean-ops")

    @app.get("/")
    def index() -> Response:
        return Response('{"service": "orders", "docs": "/docs"}', mimetype="application/json")

    @app.get("/actuator")
    def actuator() -> Response:
        return _json(_links(("health", "info")))

    @app.get("/actuator/health")
    def health() -> Response:
        return _json({"status": "UP"})

    @app.get("/actuator/info")
    def info() -> Response:
        return _json({"app": {"name": "orders", "version": "2.4.1"}})

    @app.get("/actuator/env")
    @app.get("/actuator/heapdump")
    def actuator_locked() -> Response:
        return _json(
            {
                "timestamp": "2025-11-29T02:17:01.000+00:00",
                "status": 401,
                "error": "Unauthorized",
                "path": request.path,
            },
            status=401,
        )

    @app.get("/metrics")
    def metrics() -> Response:
        return Response(CLEAN_METRICS, mimetype="text/plain")

    @app.get("/env")
    @app.get("/settings")
    def settings() -> Response:
        return Response(json.dumps(MASKED_SETTINGS), mimetype="application/json")

    @app.get("/config")
    def config() -> Response:
        return Response(json.dumps(PUBLIC_CONFIG), mimetype="application/json")

    @app.get("/server-status")
    def server_status() -> Response:
        return Response(
            "<!DOCTYPE HTML PUBLIC><html><head><title>403 Forbidden</title></head><body>"
            "<h1>Forbidden</h1><p>You don't have permission to access this resource.</p>"
            "</body></html>",
            status=403,
            mimetype="text/html",
        )

    return app


def behind_login(factory: Callable[[], Flask]) -> Callable[[], Flask]:
    """The same leaky app with every path but / behind HTTP Basic (401, or 403 with the page)."""

    def make() -> Flask:
        app = factory()

        @app.before_request
        def require_login() -> Response | None:
            if request.path == "/" or request.authorization is not None:
                return None
            if request.path.startswith("/server-"):  # a proxy that denies, yet sends the page
                return Response(SERVER_STATUS, status=403, mimetype="text/html")
            return Response(
                '{"error": "unauthorized"}',
                status=401,
                mimetype="application/json",
                headers={"WWW-Authenticate": 'Basic realm="ops"'},
            )

        return app

    return make


def answers_every_path(body: str, mimetype: str) -> Flask:
    """A soft-404 server: every path answers 200 with the same document."""
    app = Flask("answers-everything")

    @app.get("/", defaults={"path": ""})
    @app.get("/<path:path>")
    def page(path: str) -> Response:
        return Response(body, mimetype=mimetype)

    return app


def spa_catch_all() -> Flask:
    """A single-page app: an API under /api, the HTML shell (with a fresh nonce) for the rest."""
    app = Flask("spa")
    counter = {"n": 0}

    @app.get("/api/orders")
    def orders() -> Response:
        return Response('[{"id": 1, "total": 12.5}]', mimetype="application/json")

    @app.get("/", defaults={"path": ""})
    @app.get("/<path:path>")
    def shell(path: str) -> Response:
        counter["n"] += 1
        return Response(
            '<!doctype html><html lang="en"><head><meta charset="utf-8">'
            f'<script nonce="n{counter["n"]}">window.__CONFIG__ = {{"apiBase": "/api"}}</script>'
            '<title>Orders</title></head><body><div id="root"></div>'
            '<script src="/static/js/main.4f1c9a.js"></script></body></html>',
            mimetype="text/html",
        )

    return app
