"""Authentication: does the API enforce the authentication its description declares — and does
what it declares make sense? Each check compares declared security (the OpenAPI document) with
what the API answers with and without (valid, bogus, relocated) credentials."""

from __future__ import annotations

import base64
import json
import re
import secrets
from collections.abc import AsyncIterator, Iterator
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

from middlebrick.checks._check import check
from middlebrick.checks._context import Context, NotApplicable, ProbeContext, RawFinding
from middlebrick.checks.analyzers import jwt
from middlebrick.checks.analyzers.sensitive import sensitive_fields
from middlebrick.http.exchange import Exchange
from middlebrick.model import Category, Confidence, Kind, Severity
from middlebrick.spec.operations import Operation, Scheme

MAX_PROBED = 10
# A 2xx whose small body says "no" is a status-code mistake, not an open door.
_REFUSAL = re.compile(
    r"unauthori[sz]ed|unauthenticated|not authenticated|authentication required|login required|"
    r"access denied|forbidden|invalid (?:token|credentials|api key)|missing (?:token|credentials|"
    r"authorization|api key)",
    re.I,
)


def _anonymous(ctx: Context, url: str, method: str = "GET") -> Exchange | None:
    """The baseline request of `method url` without credentials."""
    for ex in ctx.at(url, method):
        if not ex.request.authenticated and not _probe_headers(ex):
            return ex
    return None


def _authenticated(ctx: Context, url: str) -> Exchange | None:
    for ex in ctx.at(url):
        if ex.request.authenticated and ex.ok:
            return ex
    return None


def _probe_headers(ex: Exchange) -> bool:
    """The request carried headers a check added (Origin, spoofed or bogus credentials)."""
    names = {k.lower() for k, _ in ex.request.headers}
    return bool(
        names
        & {
            "origin",
            "authorization",
            "x-original-url",
            "x-rewrite-url",
            "x-http-method-override",
            "x-forwarded-proto",
        }
    )


def _status(ex: Exchange) -> str:
    return str(ex.response.status) if ex.response is not None else "(no response)"


def _refusal(ex: Exchange) -> bool:
    resp = ex.response
    return resp is not None and len(resp.body) < 600 and bool(_REFUSAL.search(resp.text(600)))


def _get_operations(ctx: Context, *, secured: bool) -> list[Operation]:
    if ctx.spec is None:
        raise NotApplicable("needs the API description (--spec, or one the scan can discover)")
    return [op for op in ctx.operations if op.method == "GET" and op.secured is secured]


def _declared_schemes(ctx: Context, op: Operation) -> list[Scheme]:
    assert ctx.spec is not None
    names = {name for requirement in op.security or () for name in requirement}
    return [ctx.spec.schemes[n] for n in sorted(names) if n in ctx.spec.schemes]


@check(
    id="MB-AUTH-001",
    title="Operation declared secured answers without credentials",
    category=Category.AUTHENTICATION,
    severity=Severity.CRITICAL,
    cwe=(306, 862),
    owasp="API2:2023",
    kind=Kind.PASSIVE,
)
def secured_operation_open(ctx: Context) -> Iterator[RawFinding]:
    """The API description says an operation needs credentials, but it answers 2xx without any.

    This is the Flask route that forgot `@auth.login_required`, the router mounted outside the
    auth middleware, the gateway rule that misses one path. GET and HEAD operations are always
    tested; other methods only with `--unsafe`, and then only without credentials.

    Only 401 and 403 count as enforcement; 404 and 405 are inconclusive (the sample URL may not
    exist) and are not reported; a 2xx whose short body says "unauthorized" is a status-code
    mistake, not an open door, and is not reported.
    """
    if ctx.spec is None:
        raise NotApplicable("needs the API description (--spec, or one the scan can discover)")
    for op in ctx.operations:
        if op.secured is not True or op.method == "OPTIONS":
            continue
        ex = _anonymous(ctx, op.url, op.method)
        if ex is None or not ex.ok or _refusal(ex):
            continue
        yield ctx.finding(
            ex,
            f"{op.method} {op.path} is declared secured but answered {_status(ex)} "
            "without credentials",
            key=f"{op.method} {op.path}",
            confidence=Confidence.CERTAIN,
        )


@check(
    id="MB-AUTH-012",
    title="Operation declared public returns sensitive data",
    category=Category.AUTHENTICATION,
    severity=Severity.HIGH,
    cwe=(306, 359),
    owasp="API2:2023",
    kind=Kind.PASSIVE,
)
def public_operation_exposes_data(ctx: Context) -> Iterator[RawFinding]:
    """An operation the description declares public (or leaves without security) answers an
    anonymous request with secrets (password, hash, API key, token fields) or with several
    people's personal data (e-mail addresses, phone numbers, dates of birth).

    The description documents the hole, so comparing declared and enforced authentication alone
    misses it. Critical when secrets are returned; one person's record is not reported (a public
    profile may be intended), two or more are.
    """
    for op in ctx.operations:
        if op.method != "GET" or op.secured is True or op.source.value != "spec":
            continue
        ex = _anonymous(ctx, op.url)
        if ex is None or not ex.ok or ex.response is None or not ex.response.looks_like_json():
            continue
        secret_names, personal_names, records = sensitive_fields(json.loads(ex.response.body))
        if secret_names:
            yield ctx.finding(
                ex,
                f"{op.method} {op.path} is public and returns {', '.join(sorted(secret_names))}",
                severity=Severity.CRITICAL,
                key=f"{op.method} {op.path}",
            )
        elif records >= 2:
            yield ctx.finding(
                ex,
                f"{op.method} {op.path} is public and returns {records} records with "
                f"{', '.join(sorted(personal_names))}",
                key=f"{op.method} {op.path}",
            )


@check(
    id="MB-AUTH-002",
    title="Operation declared public demands credentials",
    category=Category.AUTHENTICATION,
    severity=Severity.INFO,
    cwe=(1059,),
    owasp="API9:2023",
    kind=Kind.PASSIVE,
)
def public_operation_demands_credentials(ctx: Context) -> Iterator[RawFinding]:
    """The description declares an operation public (`security: []`) but it answers 401 or 403.

    Not a hole, but documentation drift: clients generated from the description will not send
    credentials, and a reviewer reading it will misjudge what is exposed.
    """
    for op in _get_operations(ctx, secured=False):
        ex = _anonymous(ctx, op.url)
        if ex is not None and ex.response is not None and ex.response.status in (401, 403):
            yield ctx.finding(
                ex,
                f"{op.method} {op.path} is declared public but answered {ex.response.status}",
                key=f"{op.method} {op.path}",
            )


def _bogus_credentials(ctx: ProbeContext, scheme: Scheme) -> dict[str, tuple[dict[str, str], str]]:
    """name -> (headers, query string) that present a wrong credential of `scheme`."""
    junk = "mb" + secrets.token_hex(12)
    kind = scheme.kind
    if kind == "basic":
        token = base64.b64encode(f"middlebrick:{junk}".encode()).decode()
        return {"wrong Basic password": ({"Authorization": f"Basic {token}"}, "")}
    if kind == "bearer":
        forged = jwt.forgeries(ctx.bearer_token)
        variants = {"junk bearer token": ({"Authorization": f"Bearer {junk}"}, "")}
        for name, token in forged.items():
            variants[f"forged JWT ({name})"] = ({"Authorization": f"Bearer {token}"}, "")
        return variants
    if kind == "apikey" and scheme.parameter:
        if scheme.location == "header":
            return {"wrong API key": ({scheme.parameter: junk}, "")}
        if scheme.location == "query":
            return {"wrong API key": ({}, urlencode({scheme.parameter: junk}))}
        if scheme.location == "cookie":
            return {"wrong API key": ({"Cookie": f"{scheme.parameter}={junk}"}, "")}
    return {}


def _with_query(url: str, query: str) -> str:
    if not query:
        return url
    parts = urlsplit(url)
    return urlunsplit(parts._replace(query=f"{parts.query}&{query}" if parts.query else query))


def _probed_methods(ctx: ProbeContext) -> set[str]:
    """GET and HEAD always; write methods only with --unsafe (the baseline sent them then)."""
    return {"GET", "HEAD"} | ({"POST", "PUT", "PATCH", "DELETE"} if ctx.unsafe else set())


def _refused_secured(ctx: ProbeContext) -> list[tuple[Operation, Exchange]]:
    """Secured operations whose anonymous request was refused with 401/403."""
    if ctx.spec is None:
        raise NotApplicable("needs the API description (--spec, or one the scan can discover)")
    pairs = []
    for op in ctx.operations:
        if op.secured is not True or op.method not in _probed_methods(ctx):
            continue
        ex = _anonymous(ctx, op.url, op.method)
        if ex is not None and ex.response is not None and ex.response.status in (401, 403):
            pairs.append((op, ex))
    return pairs[:MAX_PROBED]


@check(
    id="MB-AUTH-003",
    title="Bogus credentials are accepted",
    category=Category.AUTHENTICATION,
    severity=Severity.CRITICAL,
    cwe=(287,),
    owasp="API2:2023",
    kind=Kind.ACTIVE,
)
async def bogus_credentials_accepted(ctx: ProbeContext) -> AsyncIterator[RawFinding]:
    """A secured operation that refuses anonymous requests answers 2xx to a wrong credential of
    its declared scheme.

    For bearer schemes the wrong credentials are well-formed JWTs, not only junk: `alg: none`,
    the same claims signed with a wrong key, claims with an expired `exp`, and a token with its
    signature stripped — many APIs reject junk yet accept any signature. Each accepted variant is
    its own finding. Basic: a random password; API keys: a random key in the declared place.
    GET and HEAD operations always; write operations only with `--unsafe` (a bogus credential is
    never the user's own, so an API that verifies it refuses before acting).
    """
    for op, anonymous in _refused_secured(ctx):
        for scheme in _declared_schemes(ctx, op):
            for name, (headers, query) in _bogus_credentials(ctx, scheme).items():
                ex = await ctx.send(
                    op.method, _with_query(op.url, query), headers=headers, purpose=f"bogus: {name}"
                )
                if ex.ok and not _refusal(ex):
                    yield ctx.finding(
                        [anonymous, ex],
                        f"{name} accepted by {op.method} {op.path} (scheme {scheme.name!r})",
                        key=name,
                        confidence=Confidence.CERTAIN,
                    )


def _variants(url: str, method: str = "GET") -> dict[str, tuple[str, dict[str, str], str]]:
    """name -> (url, headers, method) that reach the same `method url` route another way."""
    parts = urlsplit(url)
    path = parts.path or "/"
    segments = path.split("/")
    last = segments[-1] or (segments[-2] if len(segments) > 1 else "")

    def at(new_path: str) -> str:
        return urlunsplit(parts._replace(path=new_path))

    root = at("/")
    variants: dict[str, tuple[str, dict[str, str], str]] = {
        "trailing slash": (at(path.rstrip("/") + "/"), {}, method),
        "double slash": (at("/" + path), {}, method),
        "upper case": (at(path.upper()), {}, method),
        "semicolon suffix": (at(path + ";"), {}, method),
        "dot segment": (at(path.rstrip("/") + "/."), {}, method),
        "X-Original-URL": (root, {"X-Original-URL": path}, method),
        "X-Rewrite-URL": (root, {"X-Rewrite-URL": path}, method),
    }
    if method == "GET":
        variants["HEAD instead of GET"] = (url, {}, "HEAD")
        variants["X-HTTP-Method-Override"] = (url, {"X-HTTP-Method-Override": "HEAD"}, "GET")
    else:  # the rule guards one method; the framework may honour an override of another
        variants["X-HTTP-Method-Override"] = (url, {"X-HTTP-Method-Override": method}, "POST")
    if last:
        encoded = path[: len(path) - len(last)] + quote(last[0], safe="") + last[1:]
        if encoded == path:  # quote() left a letter alone: encode it by hand
            encoded = path[: len(path) - len(last)] + f"%{ord(last[0]):02X}" + last[1:]
        variants["percent-encoding"] = (at(encoded), {}, method)
    if path.upper() == path:
        del variants["upper case"]
    return variants


@check(
    id="MB-AUTH-004",
    title="Authentication can be bypassed by another spelling of the request",
    category=Category.AUTHENTICATION,
    severity=Severity.CRITICAL,
    cwe=(288, 863),
    owasp="API2:2023",
    kind=Kind.ACTIVE,
)
async def authentication_bypass(ctx: ProbeContext) -> AsyncIterator[RawFinding]:
    """A route that refuses an anonymous request serves the same request written differently:
    trailing slash, double slash, changed case, a percent-encoded character, a `;` suffix, a `/.`
    segment, `HEAD` instead of `GET`, `X-HTTP-Method-Override`, or `X-Original-URL` /
    `X-Rewrite-URL` pointing a public URL at it.

    The auth rule and the router disagree on what the path is (a proxy rule on `/admin` that
    `/ADMIN` or `/admin/` slips past; middleware that matches paths literally). A variant only
    counts when the route refused the plain request, the variant answers 2xx, and its body is not a
    refusal; for rewrite headers the answer must also differ from the public URL's own answer.
    """
    targets = [("GET", url) for url in sorted(ctx.protected_urls)[:5]]
    if ctx.unsafe and ctx.spec is not None:
        targets += [(op.method, op.url) for op, _ in _refused_secured(ctx) if op.method != "GET"]
    if not targets:
        raise NotApplicable("no endpoint refused an anonymous request")
    root_ex = await ctx.send("GET", ctx.target.url_for("/"), purpose="bypass: public baseline")
    for refused_method, url in targets:
        refused = _anonymous(ctx, url, refused_method)
        if refused is None:
            continue
        for name, (variant, headers, method) in _variants(url, refused_method).items():
            ex = await ctx.send(method, variant, headers=headers, purpose=f"bypass: {name}")
            if not ex.ok or _refusal(ex):
                continue
            if headers.keys() & {"X-Original-URL", "X-Rewrite-URL"} and (
                root_ex.response is None
                or ex.response is None
                or ex.response.body == root_ex.response.body
            ):
                continue  # the public page answered as it always does
            yield ctx.finding(
                [refused, ex],
                f"{name}: {method} {urlsplit(variant).path} answered {_status(ex)} "
                f"where {urlsplit(url).path} refused",
                key=f"{refused_method} {name}",
            )


@check(
    id="MB-AUTH-005",
    title="401 response lacks a matching WWW-Authenticate challenge",
    category=Category.AUTHENTICATION,
    severity=Severity.LOW,
    cwe=(287,),
    owasp="API8:2023",
    kind=Kind.PASSIVE,
)
def nonconforming_challenge(ctx: Context) -> Iterator[RawFinding]:
    """A 401 comes without `WWW-Authenticate`, or challenges with a scheme other than the one the
    API description declares.

    RFC 9110 requires the challenge; clients and tooling use it to know how to authenticate, and a
    challenge for another scheme (Basic where Bearer is declared) usually means a second,
    forgotten auth layer. API-key-only operations are not judged on the scheme (no standard
    challenge exists for them).
    """
    declared_http: dict[str, set[str]] = {}
    if ctx.spec is not None:
        for op in ctx.operations:
            kinds = {s.kind for s in _declared_schemes(ctx, op)} & {"basic", "bearer", "digest"}
            if kinds:
                declared_http[op.url] = kinds
    operations = {op.url for op in ctx.operations}
    for ex in ctx.exchanges(authenticated=False):
        resp = ex.response
        if resp is None or resp.status != 401 or _probe_headers(ex):
            continue
        if ex.request.method != "GET" or ex.request.url not in operations:
            continue  # judge the API's own operations, not the scanner's variants of them
        challenges = resp.headers.get_all("www-authenticate")
        if not challenges:
            yield ctx.finding(
                ex, "401 without WWW-Authenticate", key="missing", headers=("www-authenticate",)
            )
            continue
        expected = declared_http.get(ex.request.url)
        offered = {c.strip().split(" ", 1)[0].rstrip(",").lower() for c in challenges}
        if expected and not expected & offered:
            yield ctx.finding(
                ex,
                f"challenges with {', '.join(sorted(offered))} but the description declares "
                f"{', '.join(sorted(expected))}",
                key=f"{sorted(offered)}!={sorted(expected)}",
                headers=("www-authenticate",),
            )


@check(
    id="MB-AUTH-006",
    title="Credentials are accepted in the query string",
    category=Category.AUTHENTICATION,
    severity=Severity.MEDIUM,
    cwe=(598,),
    owasp="API2:2023",
    kind=Kind.ACTIVE,
)
async def credentials_in_query_accepted(ctx: ProbeContext) -> AsyncIterator[RawFinding]:
    """A protected endpoint accepts the user's credentials as URL parameters
    (`?username=&password=`, `?access_token=`, `?api_key=`).

    URLs end up in server and proxy logs, browser history and `Referer` headers, so a credential
    accepted there will leak. Sent only with the credentials the user gave the scan; those URLs may
    therefore appear in the target's own logs — use test credentials.
    """
    if not ctx.target.has_credentials:
        raise NotApplicable("needs credentials (--auth, --bearer or --header)")
    refused = sorted(ctx.protected_urls)[:MAX_PROBED]
    if not refused:
        raise NotApplicable("no endpoint refused an anonymous request")
    params = ctx.credential_params()
    for url in refused:
        for name, query in params.items():
            ex = await ctx.send(
                "GET", _with_query(url, query), purpose=f"credentials in query: {name}"
            )
            if ex.ok and not _refusal(ex):
                yield ctx.finding(ex, f"{name} in the query string were accepted", key=name)
