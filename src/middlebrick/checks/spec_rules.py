"""Static rules over the API description alone: what `middlebrick audit` runs (and `scan` too,
when it has a description). They read `ctx.spec` and send nothing."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from middlebrick.checks._check import check
from middlebrick.checks._context import Context, NotApplicable, RawFinding
from middlebrick.checks.analyzers.sensitive import SECRET_KEY
from middlebrick.model import Category, Confidence, Kind, Severity
from middlebrick.spec.operations import ApiSpec, Operation

_SENSITIVE_NAME = re.compile(
    r"^(?:pass(?:word|wd|phrase)?|pwd|secret|client_secret|api_?key|access_?token|refresh_?token|"
    r"auth_?token|token|session_?id|ssn|social_security_number|credit_?card|card_?number|cvv|pin)$",
    re.I,
)
_PUBLIC_BY_NATURE = re.compile(
    r"/(?:health|healthz|ready|readyz|live|livez|status|ping|version|login|logout|token|oauth|"
    r"register|signup|sign-up|docs|openapi|swagger|spec)\b",
    re.I,
)
MAX_SCHEMA_NODES = 20_000


def _spec(ctx: Context) -> ApiSpec:
    if ctx.spec is None:
        raise NotApplicable("needs the API description")
    return ctx.spec


def _where(op: Operation) -> str:
    return f"{op.method} {op.path}"


@check(
    id="MB-AUTH-007",
    title="Operation has no security while its siblings do",
    category=Category.AUTHENTICATION,
    severity=Severity.HIGH,
    cwe=(306,),
    owasp="API2:2023",
    kind=Kind.STATIC,
)
def unevenly_applied_security(ctx: Context) -> Iterator[RawFinding]:
    """The description declares security on most operations but leaves one without any, and
    there is no global `security` to inherit.

    This is how the classic Flask mistake — one view without `@auth.login_required` — shows up in a
    generated description. Operations that are public by nature (health, login, token, docs) and
    operations explicitly marked `security: []` are not reported: that is a decision, not an
    omission.
    """
    spec = _spec(ctx)
    if spec.global_security:
        return
    secured = [op for op in spec.operations if op.secured]
    if not secured:
        return
    for op in spec.operations:
        if op.security is None and not _PUBLIC_BY_NATURE.search(op.path):
            yield ctx.finding(
                None,
                f"{_where(op)} declares no security; {len(secured)} of "
                f"{len(spec.operations)} operations do",
                key=_where(op),
                endpoint=_where(op),
                excerpt=f"{_where(op)}: no `security`, and no global `security`",
            )


@check(
    id="MB-AUTH-008",
    title="Security requirement names an undefined scheme",
    category=Category.AUTHENTICATION,
    severity=Severity.MEDIUM,
    cwe=(1059,),
    owasp="API8:2023",
    kind=Kind.STATIC,
)
def undefined_security_scheme(ctx: Context) -> Iterator[RawFinding]:
    """A `security` requirement refers to a scheme that `securitySchemes` (or Swagger's
    `securityDefinitions`) does not define.

    Tools and gateways that enforce the description either fail or, worse, treat the operation as
    unprotected; readers cannot tell how to authenticate.
    """
    spec = _spec(ctx)
    requirements = [("global", spec.global_security or ())] + [
        (_where(op), op.security or ()) for op in spec.operations
    ]
    for where, alternatives in requirements:
        for name in sorted({n for alt in alternatives for n in alt} - set(spec.schemes)):
            yield ctx.finding(
                None,
                f"{where} requires scheme {name!r}, which is not defined",
                key=name,
                endpoint=where,
                confidence=Confidence.CERTAIN,
            )


@check(
    id="MB-AUTH-009",
    title="Security scheme is defined but never applied",
    category=Category.AUTHENTICATION,
    severity=Severity.LOW,
    cwe=(1059,),
    owasp="API8:2023",
    kind=Kind.STATIC,
)
def unused_security_scheme(ctx: Context) -> Iterator[RawFinding]:
    """A scheme in `securitySchemes` is not used by the global `security` nor by any operation.

    Usually the author meant to protect the API with it and forgot the `security` that applies it,
    so the description documents every operation as public.
    """
    spec = _spec(ctx)
    used = {n for alt in spec.global_security or () for n in alt}
    used |= {n for op in spec.operations for alt in op.security or () for n in alt}
    for name in sorted(set(spec.schemes) - used):
        yield ctx.finding(
            None,
            f"scheme {name!r} is defined but no operation requires it",
            key=name,
            endpoint=f"securitySchemes.{name}",
        )


@check(
    id="MB-AUTH-010",
    title="Secured operation does not document 401 or 403",
    category=Category.AUTHENTICATION,
    severity=Severity.INFO,
    cwe=(1059,),
    owasp="API8:2023",
    kind=Kind.STATIC,
)
def undocumented_auth_failure(ctx: Context) -> Iterator[RawFinding]:
    """A secured operation lists no 401 or 403 response (nor a `default` or `4XX`).

    Clients generated from the description do not expect the refusal, and contract tests cannot
    check that credentials are enforced.
    """
    for op in _spec(ctx).operations:
        documented = {r.upper() for r in op.responses}
        if op.secured and not documented & {"401", "403", "4XX", "DEFAULT"}:
            yield ctx.finding(
                None, f"{_where(op)} documents no 401/403", key=_where(op), endpoint=_where(op)
            )


@check(
    id="MB-AUTH-011",
    title="Credentials are sent in the URL",
    category=Category.AUTHENTICATION,
    severity=Severity.MEDIUM,
    cwe=(598,),
    owasp="API2:2023",
    kind=Kind.STATIC,
)
def credentials_in_url(ctx: Context) -> Iterator[RawFinding]:
    """An API-key scheme is declared `in: query`, or an operation takes a password, token, key or
    similar secret as a query or path parameter.

    URLs are written to access logs, proxies, browser history and `Referer` headers: a secret in
    one is a secret in all of them. Headers (or the request body) are the place for credentials.
    """
    spec = _spec(ctx)
    for scheme in spec.schemes.values():
        if scheme.type == "apiKey" and scheme.location == "query":
            yield ctx.finding(
                None,
                f"API key scheme {scheme.name!r} is sent as query parameter {scheme.parameter!r}",
                key=f"scheme:{scheme.name}",
                endpoint=f"securitySchemes.{scheme.name}",
            )
    for op in spec.operations:
        for param in op.parameters:
            name, place = str(param.get("name", "")), param.get("in")
            if place in ("query", "path") and _SENSITIVE_NAME.match(name):
                yield ctx.finding(
                    None,
                    f"{_where(op)} takes {name!r} in the {place}",
                    key=f"{place}:{name}",
                    endpoint=_where(op),
                )


_ADMIN = re.compile(
    r"/(?:admin|administration|internal|manage|management|superuser|staff|backoffice|ops|"
    r"sudo|root)(?:/|$)|/(?:roles?|permissions|impersonate)(?:/|$)",
    re.I,
)


@check(
    id="MB-AUTH-013",
    title="Admin operation is as open as the public ones",
    category=Category.AUTHENTICATION,
    severity=Severity.HIGH,
    cwe=(306, 285),
    owasp="API5:2023",
    kind=Kind.STATIC,
)
def public_admin_operation(ctx: Context) -> Iterator[RawFinding]:
    """An admin-looking operation (`/admin`, `/internal`, `/management`, role and permission
    endpoints) has the same security as the API's public operations: none.

    Either the description is wrong or anyone can reach administrative functions. Admin
    operations protected by any scheme are not reported here; whether ordinary users can call them
    is an authorization question the runtime checks answer.
    """
    spec = _spec(ctx)
    for op in spec.operations:
        if _ADMIN.search(op.path) and op.secured is not True:
            if op.security is None and spec.global_security:
                continue  # inherits the global requirement
            how = "declares `security: []`" if op.secured is False else "declares no security"
            yield ctx.finding(
                None,
                f"{_where(op)} looks administrative and {how}",
                key=_where(op),
                endpoint=_where(op),
            )


@check(
    id="MB-ENC-013",
    title="API description lists plain-HTTP servers",
    category=Category.ENCRYPTION,
    severity=Severity.MEDIUM,
    cwe=(319,),
    owasp="API8:2023",
    kind=Kind.STATIC,
)
def plain_http_servers(ctx: Context) -> Iterator[RawFinding]:
    """A `servers` URL (or Swagger `schemes`) uses `http://`.

    Clients generated from the description will talk to the API in clear text. High when the API
    declares Basic, Digest or API-key schemes, whose secrets then cross the network readable.
    Loopback addresses (`localhost`, `127.0.0.1`) are development servers and are not reported.
    """
    spec = _spec(ctx)
    kinds = {s.kind for s in spec.schemes.values()}
    cleartext_secret = bool(kinds & {"basic", "digest", "apikey"})
    for url in spec.servers:
        if not url.lower().startswith("http://"):
            continue
        host = url[7:].split("/")[0].split(":")[0].strip("[]").lower()
        if host in ("localhost", "127.0.0.1", "::1"):
            continue
        yield ctx.finding(
            None,
            f"server {url} is plain HTTP"
            + (" and the API uses Basic/Digest or API-key credentials" if cleartext_secret else ""),
            key=url,
            endpoint=url,
            severity=Severity.HIGH if cleartext_secret else None,
        )


def _secret_fields(spec: ApiSpec, schema: Any) -> set[str]:
    """Property names in a schema (refs followed, cycles and size bounded) that hold secrets."""
    found: set[str] = set()
    seen: set[int] = set()
    stack = [schema]
    visited = 0
    while stack and visited < MAX_SCHEMA_NODES:
        node = spec.resolver.deref(stack.pop())
        visited += 1
        if not isinstance(node, dict) or id(node) in seen:
            continue
        seen.add(id(node))
        properties = node.get("properties")
        if isinstance(properties, dict):
            for name, sub in properties.items():
                if SECRET_KEY.match(str(name)) and not (
                    isinstance(sub, dict) and sub.get("writeOnly") is True
                ):
                    found.add(str(name))
                stack.append(sub)
        for key in ("items", "additionalProperties"):
            if isinstance(node.get(key), dict):
                stack.append(node[key])
        for key in ("allOf", "anyOf", "oneOf"):
            if isinstance(node.get(key), list):
                stack.extend(node[key])
    return found


@check(
    id="MB-DATA-006",
    title="Response schema exposes password or secret fields",
    category=Category.DATA_EXPOSURE,
    severity=Severity.MEDIUM,
    cwe=(200, 312),
    owasp="API3:2023",
    kind=Kind.STATIC,
)
def secret_fields_in_responses(ctx: Context) -> Iterator[RawFinding]:
    """A 2xx response schema has a property named like a password, hash, salt, secret or key.

    Returning them — even hashed — hands attackers offline cracking material or working
    credentials. Fields marked `writeOnly: true` (accepted in requests, never returned) are not
    reported.
    """
    spec = _spec(ctx)
    for op in spec.operations:
        fields: set[str] = set()
        for schema in op.response_schemas:
            fields |= _secret_fields(spec, schema)
        if fields:
            yield ctx.finding(
                None,
                f"{_where(op)} returns {', '.join(sorted(fields))}",
                key=f"{_where(op)}",
                endpoint=_where(op),
            )
