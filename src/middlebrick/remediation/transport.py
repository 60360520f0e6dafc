"""Fixes for plain HTTP and the HTTPS redirect (MB-ENC-001..004).

Facts the texts rely on: Flask-Talisman redirects with 302 unless `force_https_permanent=True`
and trusts a client's `X-Forwarded-Proto`; Starlette's `HTTPSRedirectMiddleware` answers 307;
Django's `SECURE_SSL_REDIRECT` answers 301; Express's `res.redirect(url)` answers 302; uvicorn and
gunicorn believe forwarding headers only from `--forwarded-allow-ips` (default: loopback).
"""

from __future__ import annotations

from middlebrick.remediation._snippet import Fix, flask_code, per_scheme

_PROXY_REDIRECT = (
    "Terminate TLS in front of the app (nginx, Caddy, a cloud load balancer) and have the plain-HTTP "
    "listener answer every path with `301` or `308` to the same URL on `https://` before any "
    "authentication or routing runs (nginx: `server { listen 80; return 301 https://$host$request_uri; }`), "
    "or do not listen on port 80 at all."
)
_NGINX_FORWARDING = (
    "In the nginx `location` that proxies to the app: `proxy_set_header Host $host; "
    "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for; proxy_set_header "
    "X-Forwarded-Proto $scheme;`."
)
_FLASK_REDIRECT = (
    flask_code("enforce_https")
    + "\n\nCall `enforce_https(app, proxies=1)` (the number of proxies in front; 0 if clients "
    "reach the app directly) before registering anything that can answer, authentication "
    "included. " + _NGINX_FORWARDING
)
# what went over the network in clear, by scheme: what to rotate
_IN_CLEAR = {
    "basic": (
        "Basic credentials are the password itself, base64-encoded, on every request: change every "
        "password that was used over plain HTTP, and never send a `Basic` challenge on the HTTP "
        "listener."
    ),
    "bearer": (
        "Bearer tokens sent in clear can be replayed until they expire: revoke the tokens in use "
        "and keep their lifetime short."
    ),
    "apikey": "Reissue every API key that was used over plain HTTP.",
    "any": "Rotate any credential that was sent over plain HTTP.",
}

FIXES: dict[str, dict[str, Fix]] = {
    "MB-ENC-001": {
        "flask": per_scheme(
            "Serve the API over HTTPS only. "
            + _PROXY_REDIRECT
            + " Bind gunicorn to 127.0.0.1 so only the proxy reaches it. In the app, redirect "
            "every plain-HTTP request and send HSTS once on HTTPS:\n\n"
            + flask_code("enforce_https", "hsts")
            + "\n\nCall `enforce_https(app, proxies=1)` (the number of proxies in front; 0 if "
            "clients reach the app directly) first, then `hsts(app)`. " + _NGINX_FORWARDING,
            **_IN_CLEAR,
        ),
        "fastapi": per_scheme(
            _PROXY_REDIRECT + " Run uvicorn on 127.0.0.1 behind it; uvicorn believes "
            "`X-Forwarded-Proto` only from `--forwarded-allow-ips` (default 127.0.0.1). "
            "`app.add_middleware(HTTPSRedirectMiddleware)` also redirects, but with a temporary "
            "307 (MB-ENC-002): prefer the proxy's 301.",
            **_IN_CLEAR,
        ),
        "django": per_scheme(
            _PROXY_REDIRECT + " In Django set `SECURE_SSL_REDIRECT = True` (a 301 from "
            "`SecurityMiddleware`), `SECURE_HSTS_SECONDS = 31536000`, and "
            "`SECURE_PROXY_SSL_HEADER = ('HTTP_X_FORWARDED_PROTO', 'https')` only when a proxy "
            "you control sets that header on every request.",
            **_IN_CLEAR,
        ),
        "express": per_scheme(
            _PROXY_REDIRECT + " If the app must redirect itself: `app.set('trust proxy', 1)` "
            "(your real proxy count) and, before every other middleware, "
            "`app.use((req, res, next) => req.secure ? next() : res.redirect(308, 'https://' + "
            "req.hostname + req.originalUrl))`; then `app.use(helmet())` for HSTS.",
            **_IN_CLEAR,
        ),
        "generic": per_scheme(
            _PROXY_REDIRECT + " Credentials, tokens and data must only ever cross the network "
            "inside TLS.",
            **_IN_CLEAR,
        ),
    },
    "MB-ENC-002": {
        "flask": (
            "Redirect with a permanent status: `redirect(url)` sends 302 — pass 301 or 308 — and "
            "Flask-Talisman sends 302 unless `force_https_permanent=True`. The redirect below "
            "answers 308, which also keeps the method and body:\n\n" + _FLASK_REDIRECT
        ),
        "fastapi": (
            "Starlette's `HTTPSRedirectMiddleware` always answers 307; redirect in the proxy "
            "instead (`return 301 https://$host$request_uri;` in nginx; Caddy answers 308), or "
            "write a small middleware returning `RedirectResponse(url, status_code=308)`."
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
        "flask": per_scheme(
            "Make the redirect the first thing that happens to every plain-HTTP request: in the "
            "proxy's port-80 server block (`return 301 https://$host$request_uri;`), or in the "
            "app with an app-wide `before_request` hook registered before authentication — it "
            "runs ahead of view decorators such as `@auth.login_required`, so no challenge and "
            "no data goes out over HTTP. Never redirect per view or per blueprint:\n\n"
            + _FLASK_REDIRECT,
            **_IN_CLEAR,
        ),
        "fastapi": per_scheme(
            "Redirect in the proxy, before the request reaches the app. In the app, add the "
            "redirect as the outermost middleware (added last), so it runs before "
            "authentication dependencies and `HTTPBasic` challenges.",
            **_IN_CLEAR,
        ),
        "django": per_scheme(
            "Use `SECURE_SSL_REDIRECT = True` with `SecurityMiddleware` first in `MIDDLEWARE`, so "
            "the redirect happens before authentication middleware or views answer; check that "
            "`SECURE_REDIRECT_EXEMPT` does not exempt API paths.",
            **_IN_CLEAR,
        ),
        "express": per_scheme(
            "Register the HTTPS redirect with `app.use(...)` before any auth middleware "
            "(passport, express-basic-auth) and before the routers, or redirect in the proxy.",
            **_IN_CLEAR,
        ),
        "generic": per_scheme(
            "Redirect every plain-HTTP request to HTTPS before authentication or routing runs — "
            "ideally in the proxy's port-80 server block — or do not listen on port 80 at all.",
            **_IN_CLEAR,
        ),
    },
    "MB-ENC-004": {
        "flask": (
            "Decide whether a request is secure from the connection, or from a header that your "
            "own proxies set — and believe exactly as many values as there are proxies. "
            "Werkzeug's `ProxyFix` does that when its count is true; with `proxies=0` (no proxy) "
            "it is not installed and `X-Forwarded-Proto` is ignored:\n\n"
            + _FLASK_REDIRECT
            + "\n\nA proxy count is only safe if the app cannot be reached around the proxy: bind "
            "it to 127.0.0.1 or a private network. Flask-Talisman and hand-written "
            "`request.headers.get('X-Forwarded-Proto')` checks believe any client; gunicorn's "
            "`secure_scheme_headers` apply only to peers in `--forwarded-allow-ips` — keep that "
            "to the proxy's address."
        ),
        "fastapi": (
            "uvicorn trusts `X-Forwarded-Proto` only from `--forwarded-allow-ips` (default "
            "127.0.0.1): set it to your proxy's address, never `'*'`, keep the app unreachable "
            "except through the proxy, and do not build your own check on "
            "`request.headers['x-forwarded-proto']`."
        ),
        "django": (
            "Set `SECURE_PROXY_SSL_HEADER = ('HTTP_X_FORWARDED_PROTO', 'https')` only when the "
            "proxy always sets or strips that header and Django is unreachable except through "
            "it; otherwise leave it unset, so `request.is_secure()` reflects the connection."
        ),
        "express": (
            "Set `app.set('trust proxy', ...)` to your proxy's address or hop count, never `true`, "
            "and let the proxy overwrite `X-Forwarded-Proto`; `req.secure` then reflects what "
            "the proxy saw."
        ),
        "generic": (
            "Decide whether a request is secure from the connection, or from a header your own "
            "proxy overwrites on every request; never from one a client can send. Make the proxy "
            "strip incoming `X-Forwarded-Proto`, `X-Forwarded-Scheme`, `X-Forwarded-Ssl` and "
            "`Front-End-Https`, and keep the app unreachable except through it."
        ),
    },
}
