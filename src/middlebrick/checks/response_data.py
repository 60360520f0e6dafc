"""What response bodies give away: personal data, secrets, password hashes, and the caller's own
credentials. Passive over every recorded exchange (probes included), except the echo check,
which must know the credentials it looks for."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import urlsplit

from middlebrick.checks._check import check
from middlebrick.checks._context import Context, NotApplicable, ProbeContext, RawFinding
from middlebrick.checks.analyzers.content import Hit, scan_body
from middlebrick.http.exchange import Exchange, mask_value
from middlebrick.model import Category, Confidence, Kind, Severity
from middlebrick.spec.operations import ApiSpec

_STRONG_PII = frozenset({"payment card number", "IBAN", "US social security number"})
_CONTACTS = frozenset({"e-mail address", "phone number"})
_PLURAL = {"e-mail address": "e-mail addresses", "phone number": "phone numbers"}
_CRITICAL_SECRETS = frozenset(
    {"AWS access key id", "private key", "connection string with password", "Stripe secret key"}
)


def _hits(ctx: Context, family: str) -> Iterator[tuple[Exchange, list[Hit]]]:
    """Exchanges whose (2xx) body holds hits of `family`; each body is analysed once per check."""
    for ex in ctx.exchanges(success=True):
        resp = ex.response
        if resp is None or not resp.body:
            continue
        found = [
            h
            for h in scan_body(resp.body, resp.is_json or resp.looks_like_json())
            if h.family == family
        ]
        if found:
            yield ex, found


def _excerpt(hits: list[Hit], limit: int = 5) -> str:
    lines = [f"{h.where}: {mask_value(h.value)} ({h.kind})" for h in hits[:limit]]
    if len(hits) > limit:
        lines.append(f"… and {len(hits) - limit} more")
    return "\n".join(lines)


def _path(ex: Exchange) -> str:
    return urlsplit(ex.request.url).path


@check(
    id="MB-DATA-011",
    title="Response contains personal data",
    category=Category.DATA_EXPOSURE,
    severity=Severity.LOW,
    cwe=(359,),
    owasp="API3:2023",
    kind=Kind.PASSIVE,
)
def personal_data_in_response(ctx: Context) -> Iterator[RawFinding]:
    """A response carries payment card numbers (Luhn-valid, known issuer prefix), IBANs (mod-97),
    US social security numbers (SSA area/group/serial rules), or the e-mail addresses or phone
    numbers (in phone-named fields) of several people.

    Severity follows context: high for card numbers, IBANs or SSNs given to an anonymous caller or
    more than one of them; medium for one such value in an authenticated answer (the caller's own,
    still better masked); low for a list of e-mail addresses to an authenticated caller, medium
    anonymously. A single e-mail address or phone number (a profile) is not reported; nor are
    UUIDs, numeric ids, timestamps, well-known test card numbers, example.com addresses or the
    fictional 555-01xx numbers.
    """
    for ex, hits in _hits(ctx, "pii"):
        strong = [h for h in hits if h.kind in _STRONG_PII]
        contacts = {h.value.lower() for h in hits if h.kind in _CONTACTS}
        anonymous = not ex.request.authenticated
        if strong:
            distinct = {h.value for h in strong}
            severity = Severity.HIGH if anonymous or len(distinct) > 1 else Severity.MEDIUM
            kinds = sorted({h.kind for h in strong})
            yield ctx.finding(
                ex,
                f"{', '.join(kinds)} ({len(distinct)}) in the answer to {_path(ex)}",
                key=",".join(kinds),
                severity=severity,
                excerpt=_excerpt(strong),
                secrets=sorted(distinct),
            )
        elif len(contacts) >= 2:
            kinds = sorted({h.kind for h in hits if h.kind in _CONTACTS})
            yield ctx.finding(
                ex,
                f"{len(contacts)} {' and '.join(_PLURAL[k] for k in kinds)} "
                f"in the answer to {_path(ex)}",
                key="contact details",
                severity=Severity.MEDIUM if anonymous else None,
                confidence=Confidence.TENTATIVE,
                excerpt=_excerpt([h for h in hits if h.kind in _CONTACTS]),
                secrets=sorted({h.value for h in hits if h.kind == "phone number"}),
            )


@check(
    id="MB-DATA-012",
    title="Response contains secrets",
    category=Category.DATA_EXPOSURE,
    severity=Severity.HIGH,
    cwe=(200, 540),
    owasp="API3:2023",
    kind=Kind.PASSIVE,
)
def secret_in_response(ctx: Context) -> Iterator[RawFinding]:
    """A response carries a credential of a known format (AWS, GitHub, Slack, Stripe, Google API
    keys), a private key, a database connection string with its password, or a random-looking
    value under a secret-looking name (`client_secret`, `api_key`, `access_token`…).

    A JSON Web Token is reported where it is somebody's session rather than the caller's own:
    inside a list of records, under a field that is not a token field, or in a page or error
    text. A token in a top-level token field (`access_token`, `id_token`, `token`…) is the API
    issuing the caller's own and is not reported; nor is the Google API key of a Firebase web
    configuration (public by design: Firebase's own documentation says so; such keys are
    restricted by referrer and by security rules, not kept secret).

    Critical for cloud keys, private keys, live payment keys and connection strings. Values are
    matched by format or by name *and* randomness, so `"api_key": "your-key-here"` and sample
    values are not reported.
    """
    for ex, hits in _hits(ctx, "secret"):
        for hit in hits:
            if _issued_token(hit, ex) or _firebase_web_key(hit, ex):
                continue
            yield ctx.finding(
                ex,
                f"{hit.kind} at {hit.where} in the answer to {_path(ex)}",
                key=f"{hit.kind}:{hit.value}",
                severity=Severity.CRITICAL if hit.kind in _CRITICAL_SECRETS else None,
                confidence=Confidence.FIRM,
                excerpt=_excerpt([hit]),
                secrets=[hit.value],
            )


# fields in which an API hands the caller its own token (OAuth 2.0 token responses, logins)
_ISSUED = re.compile(r"(?:access|id|refresh|auth|session|bearer)?_?(?:token|jwt)$", re.IGNORECASE)
_TOP_LEVEL = re.compile(r"^\$(?:\.[^.\[]+){1,2}$")  # $.token, $.data.access_token: no list
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
_TOKEN_RESPONSE = re.compile(r'"(?:token_type|expires_in)"\s*:')
_FIREBASE_SIBLINGS = re.compile(
    r"authDomain|messagingSenderId|firebaseapp\.com|firebaseio\.com|projectId"
)


def _issued_token(hit: Hit, ex: Exchange) -> bool:
    """The caller's own token, issued to it: a token-named field at most one object deep with no
    list on the way, holding a JWT or beside OAuth 2.0's `token_type`/`expires_in`."""
    if not _TOP_LEVEL.match(hit.where) or not _ISSUED.match(hit.where.rpartition(".")[2]):
        return False
    if hit.kind == "JSON Web Token" or _JWT.fullmatch(hit.value):
        return True
    return ex.response is not None and bool(_TOKEN_RESPONSE.search(ex.response.text(1 << 20)))


def _firebase_web_key(hit: Hit, ex: Exchange) -> bool:
    """A Google API key beside the other members of a Firebase web app configuration."""
    if not hit.value.startswith("AIza") or ex.response is None:
        return False
    text = ex.response.text(1 << 20)
    at = text.find(hit.value)
    return at != -1 and bool(_FIREBASE_SIBLINGS.search(text, max(0, at - 600), at + 600))


@check(
    id="MB-DATA-013",
    title="Response contains password hashes or plaintext passwords",
    category=Category.DATA_EXPOSURE,
    severity=Severity.HIGH,
    cwe=(312, 916),
    owasp="API3:2023",
    kind=Kind.PASSIVE,
)
def password_in_response(ctx: Context) -> Iterator[RawFinding]:
    """A response carries password hashes (Werkzeug pbkdf2/scrypt, bcrypt, argon2, sha-crypt,
    Django formats, or a bare hex digest under a password-like name) or a plaintext value in a
    `password`-like field.

    Hashes can be cracked offline; a plaintext password field means passwords are stored
    reversibly. Critical for plaintext. Hex digests elsewhere (ETags, commit ids, checksums) and
    masked values (`****`) are not reported.
    """
    for family in ("plaintext password", "hash"):
        for ex, hits in _hits(ctx, family):
            kinds = sorted({h.kind for h in hits})
            yield ctx.finding(
                ex,
                f"{', '.join(kinds)} at {', '.join(sorted({h.where for h in hits})[:3])} "
                f"in the answer to {_path(ex)}",
                key=family,
                severity=Severity.CRITICAL if family == "plaintext password" else None,
                excerpt=_excerpt(hits),
                secrets=[h.value for h in hits],
            )


@check(
    id="MB-DATA-014",
    title="Response echoes the caller's credentials",
    category=Category.DATA_EXPOSURE,
    severity=Severity.HIGH,
    cwe=(200, 522),
    owasp="API3:2023",
    kind=Kind.ACTIVE,
)
async def credentials_echoed(ctx: ProbeContext) -> AsyncIterator[RawFinding]:
    """A response (body or headers) contains the password, token or API key the scanner sent.

    Echoed credentials end up in caches, logs, browser storage and any XSS's reach; an API that
    returns a user's password has stored it reversibly. Only the credentials given to the scan are
    searched for, in every response to a credentialed request.
    """
    values = ctx.credential_values()
    if not values:
        raise NotApplicable("needs credentials (--auth, --bearer or --header)")
    reported: set[str] = set()
    for ex in list(ctx.recorded):
        resp = ex.response
        if resp is None or not ex.request.authenticated:
            continue
        haystack = resp.text(1 << 20) + "\n".join(v for _, v in resp.headers)
        echoed = [name for name, value in values.items() if value in haystack]
        if echoed and _path(ex) not in reported:
            reported.add(_path(ex))
            yield ctx.finding(
                ex,
                f"the {' and '.join(echoed)} sent by the scanner came back from {_path(ex)}",
                key=",".join(echoed),
                confidence=Confidence.CERTAIN,
            )


_SENSITIVE_PROPERTY = re.compile(
    r"pass|pwd|secret|token|key|hash|salt|ssn|social|card|iban|email|phone|birth|address|"
    r"role|admin|permission|is_staff|is_superuser|internal|private",
    re.I,
)


def _declared(spec: ApiSpec, schema: Any, depth: int = 0) -> tuple[set[str], bool] | None:
    """(declared property names, closed?) of an object schema; None when it says nothing."""
    node = spec.resolver.deref(schema)
    if not isinstance(node, dict) or depth > 8:
        return None
    names: set[str] = set()
    closed = True
    said = False
    for part in node.get("allOf") or []:
        sub = _declared(spec, part, depth + 1)
        if sub is not None:
            names |= sub[0]
            closed = closed and sub[1]
            said = True
    if isinstance(node.get("properties"), dict):
        names |= {str(n) for n in node["properties"]}
        said = True
    if node.get("additionalProperties") not in (None, False) or "anyOf" in node or "oneOf" in node:
        closed = False
    return (names, closed) if said else None


def _objects(document: Any, spec: ApiSpec, schema: Any) -> Iterator[tuple[dict[str, Any], Any]]:
    """The top-level object(s) of a body paired with their schema: an object, or array items."""
    node = spec.resolver.deref(schema)
    if isinstance(document, dict):
        yield document, schema
    elif isinstance(document, list) and isinstance(node, dict) and "items" in node:
        for item in document[:50]:
            if isinstance(item, dict):
                yield item, node["items"]


@check(
    id="MB-DATA-015",
    title="Response returns properties its schema does not declare",
    category=Category.DATA_EXPOSURE,
    severity=Severity.LOW,
    cwe=(213,),
    owasp="API3:2023",
    kind=Kind.PASSIVE,
)
def undeclared_response_properties(ctx: Context) -> Iterator[RawFinding]:
    """A 2xx JSON answer has properties that the operation's response schema does not list.

    The usual cause is serialising a whole model (`jsonify(user.__dict__)`) instead of a response
    schema, which hands clients every column added later — password hashes, roles, internal
    flags (excessive data exposure). Medium when an undeclared name looks sensitive. Schemas that
    allow extra properties (`additionalProperties`, `anyOf`/`oneOf`) are not judged.
    """
    spec = ctx.spec
    if spec is None:
        raise NotApplicable("needs the API description")
    for op in ctx.operations:
        if op.method != "GET" or not op.response_schemas:
            continue
        extra: set[str] = set()
        evidence = None
        for ex in ctx.at(op.url):
            if not ex.ok or ex.response is None or not ex.response.looks_like_json():
                continue
            document = json.loads(ex.response.body)
            for obj, schema in _objects(document, spec, op.response_schemas[0]):
                declared = _declared(spec, schema)
                if declared is None or not declared[1]:
                    continue
                found = set(obj) - declared[0]
                if found:
                    extra |= found
                    evidence = evidence or ex
        if extra and evidence is not None:
            sensitive = sorted(n for n in extra if _SENSITIVE_PROPERTY.search(n))
            yield ctx.finding(
                evidence,
                f"{op.method} {op.path} returns undeclared {', '.join(sorted(extra)[:8])}",
                key=f"{op.method} {op.path}",
                severity=Severity.MEDIUM if sensitive else None,
            )
