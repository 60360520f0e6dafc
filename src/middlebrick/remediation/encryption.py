"""Fixes for the encryption checks (MB-ENC-001..012).

Facts the texts rely on: Flask-Talisman redirects with 302 unless `force_https_permanent=True`
and trusts a client's `X-Forwarded-Proto`; Starlette's `HTTPSRedirectMiddleware` answers 307;
Django's `SECURE_SSL_REDIRECT` answers 301; nginx `add_header` skips error answers without
`always` and is not inherited by a block that has its own `add_header`.
"""

from __future__ import annotations

_PROXY_REDIRECT = (
    "Terminate TLS in front of the app (nginx, Caddy, a cloud load balancer) and have the plain-HTTP "
    "listener answer every path with `301` or `308` to the same URL on `https://` before any "
    "authentication or routing runs (nginx: `server { listen 80; return 301 https://$host$request_uri; }`), "
    "or do not listen on port 80 at all."
)
_NGINX_HSTS = (
    'nginx: `add_header Strict-Transport-Security "max-age=31536000; includeSubDomains" always;` '
    "in the `server` block (without `always`, 4xx/5xx answers lack it)"
)
_MODERN_TLS_PROXY = (
    "nginx: `ssl_protocols TLSv1.2 TLSv1.3;` with `ssl_ciphers` from Mozilla's "
    '"intermediate" configuration and `ssl_prefer_server_ciphers off;`'
)

FIXES: dict[str, dict[str, str]] = {
    "MB-ENC-001": {
        "flask": (
            "Never expose the Flask app over plain HTTP, least of all with HTTP Basic Auth, which "
            "sends the password on every request. "
            + _PROXY_REDIRECT
            + " Bind the Flask server (gunicorn, waitress) to 127.0.0.1 or a private network so "
            "only the proxy reaches it. If the app must redirect by itself, use Flask-Talisman "
            "with `Talisman(app, force_https=True, force_https_permanent=True)` — but Talisman "
            "believes any client's `X-Forwarded-Proto`, so it is safe only behind a proxy that "
            "overwrites that header."
        ),
        "fastapi": (
            _PROXY_REDIRECT + " Bind uvicorn to 127.0.0.1 behind the proxy. "
            "`app.add_middleware(HTTPSRedirectMiddleware)` also redirects, but with a temporary "
            "307; prefer the proxy's 301."
        ),
        "django": (
            _PROXY_REDIRECT + " In Django set `SECURE_SSL_REDIRECT = True` (a 301 from "
            "`SecurityMiddleware`), and `SECURE_PROXY_SSL_HEADER` only when a proxy you control "
            "always overwrites that header."
        ),
        "express": (
            _PROXY_REDIRECT + " If the app must redirect itself: "
            "`app.set('trust proxy', 1)` (your real proxy count) and "
            "`app.use((req, res, next) => req.secure ? next() : "
            "res.redirect(308, 'https://' + req.hostname + req.originalUrl))`."
        ),
        "generic": (
            _PROXY_REDIRECT + " Credentials, tokens and data must only ever cross the network "
            "inside TLS; rotate any password that was used over plain HTTP."
        ),
    },
    "MB-ENC-002": {
        "flask": (
            "Redirect with a permanent status. Flask-Talisman redirects with 302 by default: pass "
            "`force_https_permanent=True` for 301. A hand-written hook should use "
            "`redirect(request.url.replace('http://', 'https://', 1), 301)`. In nginx: "
            "`return 301 https://$host$request_uri;`."
        ),
        "fastapi": (
            "Starlette's `HTTPSRedirectMiddleware` always answers 307; redirect in the proxy "
            "instead (`return 301 https://$host$request_uri;` in nginx, Caddy does 308 by "
            "default), or write a small middleware returning `RedirectResponse(url, 308)`."
        ),
        "django": (
            "Use `SECURE_SSL_REDIRECT = True`, which answers 301 through `SecurityMiddleware`, "
            "instead of a view or middleware that returns `HttpResponseRedirect` (302)."
        ),
        "express": (
            "Pass the status explicitly: `res.redirect(301, url)` or `res.redirect(308, url)`; "
            "`res.redirect(url)` sends 302."
        ),
        "generic": (
            "Answer plain-HTTP requests with `301 Moved Permanently` or `308 Permanent Redirect` "
            "(nginx: `return 301 https://$host$request_uri;`), so clients remember the upgrade; "
            "then send HSTS over HTTPS so they stop trying HTTP at all."
        ),
    },
    "MB-ENC-003": {
        "flask": (
            "Make the HTTPS redirect the first thing that happens to every plain-HTTP request: in "
            "the proxy's port-80 server block (`return 301 https://$host$request_uri;`), or in "
            "the app with a `before_request` hook (Flask-Talisman's `force_https`), which runs "
            "before view decorators such as Flask-HTTPAuth's `login_required` can send a 401. "
            "Never register the redirect on some blueprints only."
        ),
        "fastapi": (
            "Redirect in the proxy, before the request reaches the app. In the app, add the "
            "redirect as the outermost middleware (added last), so it runs before "
            "authentication dependencies and `HTTPBasic` challenges."
        ),
        "django": (
            "Use `SECURE_SSL_REDIRECT = True` with `SecurityMiddleware` first in `MIDDLEWARE`, so "
            "the redirect happens before authentication middleware or views answer; check "
            "`SECURE_REDIRECT_EXEMPT` does not exempt API paths."
        ),
        "express": (
            "Register the HTTPS redirect with `app.use(...)` before any auth middleware "
            "(passport, express-basic-auth) and before the routers, or redirect in the proxy."
        ),
        "generic": (
            "Redirect every plain-HTTP request to HTTPS before authentication or routing runs — "
            "ideally in the proxy's port-80 server block — or do not listen on port 80 at all. "
            "Rotate credentials that may have been sent in clear."
        ),
    },
    "MB-ENC-004": {
        "flask": (
            "Trust forwarding headers only from your own proxy. Use "
            "`app.wsgi_app = ProxyFix(app.wsgi_app, x_proto=1)` only when exactly one proxy "
            "sits in front (`x_proto=` the real number of proxies), that proxy overwrites the "
            "header (nginx: `proxy_set_header X-Forwarded-Proto $scheme;`), and the app is "
            "unreachable except through it (bind to 127.0.0.1). Flask-Talisman and hand-written "
            "`request.headers.get('X-Forwarded-Proto')` checks believe any client: rely on them "
            "only under the same conditions. Under gunicorn, keep `forwarded_allow_ips` to the "
            "proxy's address. Better, redirect in the proxy."
        ),
        "fastapi": (
            "uvicorn trusts `X-Forwarded-Proto` only from `--forwarded-allow-ips` (default "
            "127.0.0.1): set it to your proxy's address, never `'*'`, and do not build your own "
            "check on `request.headers['x-forwarded-proto']`."
        ),
        "django": (
            "Set `SECURE_PROXY_SSL_HEADER = ('HTTP_X_FORWARDED_PROTO', 'https')` only when the "
            "proxy always sets or strips that header and Django is unreachable except through "
            "it; otherwise leave it unset."
        ),
        "express": (
            "Set `app.set('trust proxy', ...)` to your proxy's address or hop count, never `true`, "
            "and let the proxy overwrite `X-Forwarded-Proto`."
        ),
        "generic": (
            "Decide whether a request is secure from the connection, or from a header your own "
            "proxy overwrites on every request; never from one a client can send. Make the proxy "
            "strip incoming `X-Forwarded-Proto`, `X-Forwarded-Scheme`, `X-Forwarded-Ssl` and "
            "`Front-End-Https`, and keep the app unreachable except through it."
        ),
    },
    "MB-ENC-005": {
        "flask": (
            "Send HSTS on every HTTPS response — Flask-Talisman does by default (one year, "
            "`includeSubDomains`), or:\n\n"
            "```python\n"
            "@app.after_request\n"
            "def hsts(response):\n"
            '    response.headers["Strict-Transport-Security"] = (\n'
            '        "max-age=31536000; includeSubDomains"\n'
            "    )\n"
            "    return response\n"
            "```\n\n"
            "or at the proxy (" + _NGINX_HSTS + ")."
        ),
        "fastapi": (
            "Add it once for every response, in the proxy (" + _NGINX_HSTS + ") or a middleware:"
            "\n\n```python\n"
            '@app.middleware("http")\n'
            "async def hsts(request, call_next):\n"
            "    response = await call_next(request)\n"
            '    response.headers["Strict-Transport-Security"] = (\n'
            '        "max-age=31536000; includeSubDomains"\n'
            "    )\n"
            "    return response\n"
            "```"
        ),
        "django": (
            "Set `SECURE_HSTS_SECONDS = 31536000` and `SECURE_HSTS_INCLUDE_SUBDOMAINS = True` "
            "with `SecurityMiddleware` enabled (it adds the header to HTTPS responses only)."
        ),
        "express": "Use helmet (`app.use(helmet())`); from helmet 5 its `hsts` default is one year.",
        "generic": (
            "Send `Strict-Transport-Security: max-age=31536000; includeSubDomains` on every HTTPS "
            "response, from the proxy (" + _NGINX_HSTS + ") or the app."
        ),
    },
    "MB-ENC-006": {
        "flask": (
            "Set exactly one header with at least a year: "
            "`Talisman(app, strict_transport_security_max_age=31536000)` or "
            "`response.headers['Strict-Transport-Security'] = 'max-age=31536000; includeSubDomains'` "
            "(assigning, not `add`, so it is never repeated; and not also in the proxy)."
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
            "Set HSTS once for the whole app — an `app.after_request` hook (it also runs for "
            "`abort()` errors and 401s from Flask-HTTPAuth) or Flask-Talisman — not in individual "
            "views or blueprints, and not only on successful responses."
        ),
        "fastapi": (
            "Set it in an app-wide middleware, not per route or in a dependency, so 401, 404 and "
            "validation errors carry it too, or at the proxy (" + _NGINX_HSTS + ")."
        ),
        "django": (
            "Rely on `SecurityMiddleware` (`SECURE_HSTS_SECONDS`) for every response rather than "
            "setting the header in views."
        ),
        "generic": (
            "Add the header in one place that sees every response, including errors and redirects: "
            "the proxy (" + _NGINX_HSTS + "; a `location` with its own `add_header` does not "
            "inherit the server's, so repeat it there) or an application-wide middleware."
        ),
    },
    "MB-ENC-008": {
        "flask": (
            "Terminate TLS at a proxy with a certificate from a CA your clients trust (Let's "
            "Encrypt via certbot or Caddy for public APIs, your organisation's CA for internal "
            "ones) and serve the full chain (nginx: `ssl_certificate .../fullchain.pem;`). If "
            "Flask/gunicorn serves TLS itself, load the chain, not the leaf alone: "
            "`ctx.load_cert_chain('fullchain.pem', 'privkey.pem')` / gunicorn `--certfile "
            "fullchain.pem`. Give internal clients the private CA (`--ca-bundle` here, "
            "`verify='ca.pem'` in requests), never `verify=False`."
        ),
        "generic": (
            "Serve a certificate from a CA your clients trust (Let's Encrypt via certbot or Caddy "
            "for public APIs, your organisation's CA for internal ones) together with its "
            "intermediate certificates (nginx: `ssl_certificate` pointing at `fullchain.pem`). "
            "Internal clients should be given the private CA (`--ca-bundle` here), never told "
            "to skip verification."
        ),
    },
    "MB-ENC-009": {
        "flask": (
            "Renew the certificate and automate renewal where TLS terminates: certbot's systemd "
            "timer with `--deploy-hook 'systemctl reload nginx'` (or gunicorn's HUP), Caddy, or "
            "cert-manager on Kubernetes; alert 14 days before `notAfter` "
            "(`openssl x509 -noout -enddate`). Check the server's clock when `notBefore` is in "
            "the future."
        ),
        "generic": (
            "Renew the certificate and automate renewal (certbot's timer with a reload hook, "
            "Caddy, cert-manager), with monitoring that alerts 14 days before expiry. A "
            "certificate not yet valid usually means a wrong clock where it was issued or where "
            "it is checked."
        ),
    },
    "MB-ENC-010": {
        "flask": (
            "Issue the certificate for every host name clients use (certbot: `-d api.example.com "
            "-d www.example.com`), and serve each name the certificate made for it (nginx "
            "`server_name` blocks, one `ssl_certificate` each). Clients should call the API by "
            "that name, not by IP address or an internal alias."
        ),
        "generic": (
            "Issue the certificate for the exact host names (and IP addresses, if clients use "
            "them) the API is reached by, in the subjectAltName extension; the common name "
            "alone is ignored by current clients. With several names on one address, make sure "
            "SNI selects the right certificate."
        ),
    },
    "MB-ENC-011": {
        "flask": (
            "In the proxy: "
            + _MODERN_TLS_PROXY
            + ". If Flask/gunicorn terminates TLS itself, build the context with "
            "`ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)` and "
            "`ctx.minimum_version = ssl.TLSVersion.TLSv1_2` (gunicorn: an `ssl_context` hook in "
            "`gunicorn.conf.py`)."
        ),
        "express": (
            "Node's default `minVersion` is TLS 1.2; remove any `minVersion: 'TLSv1'` or "
            "`secureProtocol` override from `https.createServer(...)`, or terminate TLS at a proxy "
            "(" + _MODERN_TLS_PROXY + ")."
        ),
        "generic": (
            "Allow TLS 1.2 and 1.3 only ("
            + _MODERN_TLS_PROXY
            + "; Python's ssl: `context.minimum_version = ssl.TLSVersion.TLSv1_2`; cloud load "
            "balancers: pick a TLS 1.2+ security policy)."
        ),
    },
    "MB-ENC-012": {
        "flask": (
            'Use Mozilla\'s "intermediate" cipher list at the proxy ('
            + _MODERN_TLS_PROXY
            + "). If Python terminates TLS, keep `ssl.create_default_context`'s ciphers and never "
            "call `set_ciphers` with `ALL`, `aNULL`, `eNULL` or `@SECLEVEL=0`."
        ),
        "express": (
            "Keep Node's default cipher list (`tls.DEFAULT_CIPHERS`); remove custom `ciphers:` "
            "options that add `NULL`, `aNULL`, `RC4`, `3DES` or `EXPORT` suites."
        ),
        "generic": (
            'Use a current cipher list, such as Mozilla\'s "intermediate" configuration (AEAD '
            "suites with ECDHE only); never `ALL`, `aNULL`, `eNULL` or `@SECLEVEL=0`. nginx: "
            "`ssl_ciphers` from the Mozilla SSL Configuration Generator; Python: keep the "
            "default context's ciphers; cloud load balancers: a current TLS security policy."
        ),
    },
}
