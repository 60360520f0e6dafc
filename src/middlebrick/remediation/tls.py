"""Fixes for certificates and TLS versions and ciphers (MB-ENC-008..012). These are fixed where
TLS terminates — usually a proxy, so the frameworks share most of each text.

Facts the texts rely on: since Python 3.10 an `ssl.SSLContext` defaults to TLS 1.2 as its minimum;
Node's default `minVersion` is TLS 1.2; Node reads certificates once, at `createServer`, unless
`server.setSecureContext` is called.
"""

from __future__ import annotations

from middlebrick.remediation._snippet import Fix

_MODERN_TLS_PROXY = (
    "nginx: `ssl_protocols TLSv1.2 TLSv1.3;` with `ssl_ciphers` from Mozilla's "
    '"intermediate" configuration and `ssl_prefer_server_ciphers off;`'
)
_RENEW = (
    "Renew the certificate and automate renewal where TLS terminates: certbot's systemd timer "
    "with `--deploy-hook 'systemctl reload nginx'`, Caddy, or cert-manager on Kubernetes; alert "
    "14 days before `notAfter` (`openssl x509 -noout -enddate`). A certificate not yet valid "
    "usually means a wrong clock where it was issued or where it is checked."
)
_NAMES = (
    "Issue the certificate for every host name clients use, in the subjectAltName (certbot: "
    "`-d api.example.com -d www.example.com`); the common name alone is ignored by current "
    "clients. With several names on one address, give each its `server_name` block so SNI picks "
    "the right certificate, and have clients call the API by that name, not by IP address."
)

FIXES: dict[str, dict[str, Fix]] = {
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
        "fastapi": (
            "Terminate TLS at a proxy with a publicly trusted certificate and its full chain; if "
            "uvicorn serves TLS itself, `--ssl-certfile` must be `fullchain.pem` (leaf and "
            "intermediates), with `--ssl-keyfile privkey.pem`. Internal clients get the private "
            "CA (`httpx.Client(verify='ca.pem')`), never `verify=False`."
        ),
        "django": (
            "Django does not terminate TLS: fix the certificate where it is served — nginx "
            "`ssl_certificate .../fullchain.pem;` or gunicorn `--certfile fullchain.pem` — with a "
            "certificate from a CA your clients trust."
        ),
        "express": (
            "Serve the full chain: `https.createServer({ key, cert: fs.readFileSync("
            "'fullchain.pem') }, app)` (or terminate TLS at a proxy). Node clients of a private "
            "CA get it through `ca:` or `NODE_EXTRA_CA_CERTS`, never "
            "`NODE_TLS_REJECT_UNAUTHORIZED=0`."
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
        "flask": _RENEW + " If gunicorn serves TLS itself, restart or HUP it after renewal.",
        "fastapi": _RENEW + " uvicorn reads the certificate at start: restart it after renewal.",
        "django": _RENEW
        + " (Django is not involved: this is the proxy's or gunicorn's certificate.)",
        "express": (
            _RENEW + " Node reads the certificate at `createServer`: call "
            "`server.setSecureContext({ key, cert })` after renewal, or restart."
        ),
        "generic": _RENEW,
    },
    "MB-ENC-010": {
        "flask": _NAMES,
        "fastapi": _NAMES,
        "django": _NAMES + " Keep `ALLOWED_HOSTS` to the same names.",
        "express": _NAMES,
        "generic": _NAMES,
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
        "fastapi": (
            "In the proxy: " + _MODERN_TLS_PROXY + ". If uvicorn terminates TLS itself, Python "
            "3.10+ contexts already refuse TLS 1.0/1.1: remove `--ssl-version` or `--ssl-ciphers` "
            "overrides (and `@SECLEVEL=0`) that bring them back."
        ),
        "django": "Django does not do TLS; fix it where TLS terminates: " + _MODERN_TLS_PROXY + ".",
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
        "fastapi": (
            "At the proxy: " + _MODERN_TLS_PROXY + ". If uvicorn terminates TLS, leave "
            "`--ssl-ciphers` alone or give it Mozilla's intermediate list — never `ALL`, `aNULL`, "
            "`eNULL` or `@SECLEVEL=0`."
        ),
        "django": "Django does not do TLS; fix the proxy's cipher list: " + _MODERN_TLS_PROXY + ".",
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
