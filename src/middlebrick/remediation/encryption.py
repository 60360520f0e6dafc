"""Fixes for the encryption checks."""

from __future__ import annotations

_PROXY_TLS = (
    "Terminate TLS in front of the app (nginx, Caddy, a cloud load balancer) and have the plain-HTTP "
    "listener answer every path with `301` or `308` to the same URL on `https://`, before any "
    "authentication runs."
)

FIXES: dict[str, dict[str, str]] = {
    "MB-ENC-001": {
        "flask": (
            "Never expose the Flask app over plain HTTP, least of all with HTTP Basic Auth, which "
            "sends the password on every request. "
            + _PROXY_TLS
            + " Inside the app, Flask-Talisman (`Talisman(app, force_https=True)`) adds the "
            "redirect and HSTS; behind the proxy use `ProxyFix(app.wsgi_app, x_proto=1)` with "
            "exactly the number of proxies you have."
        ),
        "fastapi": (
            _PROXY_TLS + " In the app, `app.add_middleware(HTTPSRedirectMiddleware)` redirects "
            "anything that arrives over HTTP; run uvicorn with `--proxy-headers "
            "--forwarded-allow-ips` set to the proxy's address only."
        ),
        "django": (
            _PROXY_TLS + " Set `SECURE_SSL_REDIRECT = True`, and `SECURE_PROXY_SSL_HEADER` only "
            "when a proxy you control always sets that header."
        ),
        "express": (
            _PROXY_TLS + " If the app must redirect itself, check `req.secure` with "
            "`app.set('trust proxy', 1)` (your real proxy count), never a raw header."
        ),
        "generic": _PROXY_TLS,
    },
    "MB-ENC-002": {
        "generic": (
            "Answer plain-HTTP requests with `301 Moved Permanently` or `308 Permanent Redirect` "
            "(nginx: `return 301 https://$host$request_uri;`), so clients remember the upgrade."
        ),
        "flask": (
            "Redirect with a permanent status: Flask-Talisman uses 301 by default "
            "(`force_https_permanent=True`); in nginx, `return 301 https://$host$request_uri;`."
        ),
    },
    "MB-ENC-003": {
        "flask": (
            "Make the HTTPS redirect the first thing that happens to a plain-HTTP request, for "
            "every path: do it in the proxy (`return 301 https://$host$request_uri;` in the port-80 "
            "server block), or with Flask-Talisman's `force_https`, which runs in `before_request` "
            "— before Flask-HTTPAuth's `login_required` can send a 401 challenge."
        ),
        "fastapi": (
            "Add `HTTPSRedirectMiddleware` as the outermost middleware (added last), so it runs "
            "before authentication dependencies, or redirect in the proxy."
        ),
        "generic": (
            "Redirect every plain-HTTP request to HTTPS before authentication or routing runs — "
            "ideally in the proxy's port-80 server block — or do not listen on port 80 at all."
        ),
    },
    "MB-ENC-004": {
        "flask": (
            "Only trust `X-Forwarded-*` headers set by your own proxy: wrap the app with "
            "`ProxyFix(app.wsgi_app, x_proto=1)` only when exactly one proxy sits in front and it "
            "overwrites `X-Forwarded-Proto` (nginx: `proxy_set_header X-Forwarded-Proto $scheme;`), "
            "and make the app unreachable except through it. Better, redirect in the proxy."
        ),
        "express": (
            "Set `app.set('trust proxy', ...)` to your proxy's address or hop count, never `true`, "
            "and let the proxy overwrite `X-Forwarded-Proto`."
        ),
        "generic": (
            "Decide whether a request is secure from the connection or from a header your own "
            "proxy overwrites; never from one a client can send. Make the proxy strip incoming "
            "`X-Forwarded-Proto`, `X-Forwarded-Scheme`, `X-Forwarded-Ssl` and `Front-End-Https`."
        ),
    },
    "MB-ENC-005": {
        "flask": (
            "Send HSTS on every HTTPS response — Flask-Talisman does "
            "(`strict_transport_security_max_age=31536000`), or:\n\n"
            "```python\n"
            "@app.after_request\n"
            "def hsts(response):\n"
            '    response.headers["Strict-Transport-Security"] = (\n'
            '        "max-age=31536000; includeSubDomains"\n'
            "    )\n"
            "    return response\n"
            "```"
        ),
        "django": "Set `SECURE_HSTS_SECONDS = 31536000` (and `SECURE_HSTS_INCLUDE_SUBDOMAINS = True`).",
        "express": "Use helmet (`app.use(helmet())`); its `hsts` default is one year.",
        "generic": (
            "Send `Strict-Transport-Security: max-age=31536000; includeSubDomains` on every HTTPS "
            "response, from the proxy (nginx: `add_header Strict-Transport-Security "
            '"max-age=31536000; includeSubDomains" always;`) or the app.'
        ),
    },
    "MB-ENC-006": {
        "generic": (
            "Send exactly one header, `Strict-Transport-Security: max-age=31536000; "
            "includeSubDomains` (at least one year, a plain number, each directive once). Use "
            "`max-age=0` only to deliberately retire HSTS."
        ),
    },
    "MB-ENC-007": {
        "flask": (
            "Set HSTS once for the whole app (an `app.after_request` hook or Flask-Talisman), not "
            "in individual views or blueprints, so error responses carry it too; in nginx use "
            "`add_header ... always;` so 4xx/5xx answers get it."
        ),
        "generic": (
            "Add the header in one place that sees every response (the proxy, with nginx's "
            "`always` flag, or an application-wide middleware), including errors and redirects."
        ),
    },
    "MB-ENC-008": {
        "generic": (
            "Serve a certificate from a CA your clients trust (Let's Encrypt via certbot or Caddy "
            "for public APIs, your organisation's CA for internal ones) and the full chain "
            "(nginx: `ssl_certificate` pointing at `fullchain.pem`). Internal clients should be "
            "given the private CA (`--ca-bundle` here), never `verify=False`."
        ),
    },
    "MB-ENC-009": {
        "generic": (
            "Renew the certificate and automate renewal (certbot's timer, Caddy, cert-manager), "
            "with monitoring that alerts 14 days before expiry."
        ),
    },
    "MB-ENC-010": {
        "generic": (
            "Issue the certificate for the exact host names (and IP addresses, if clients use "
            "them) the API is reached by, in the subjectAltName extension; the common name alone "
            "is ignored by clients."
        ),
    },
    "MB-ENC-011": {
        "generic": (
            "Allow TLS 1.2 and 1.3 only (nginx: `ssl_protocols TLSv1.2 TLSv1.3;`; Python's ssl: "
            "`context.minimum_version = ssl.TLSVersion.TLSv1_2`)."
        ),
        "flask": (
            "In the proxy: `ssl_protocols TLSv1.2 TLSv1.3;`. If Flask/gunicorn terminates TLS "
            "itself, build the context with `ctx.minimum_version = ssl.TLSVersion.TLSv1_2`."
        ),
    },
    "MB-ENC-012": {
        "generic": (
            'Use a current cipher list, such as Mozilla\'s "intermediate" configuration (AEAD '
            "suites with ECDHE only); never `ALL`, `aNULL`, `eNULL` or `@SECLEVEL=0`. nginx: "
            "`ssl_ciphers` from the Mozilla SSL Configuration Generator; Python: keep the "
            "default context's ciphers."
        ),
    },
}
