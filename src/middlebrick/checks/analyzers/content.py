"""Find personal data, secrets and password hashes in response bodies. Pure, bounded, no I/O.

Values are checked by structure, not just shape: card numbers by Luhn and issuer prefix, IBANs
by mod-97, US SSNs by the SSA's area/group/serial rules. JSON is walked with its paths, so the
field name can confirm a value (a 40-character hex string is a hash only under a password-like
name; anywhere else it is a commit id or a digest).

Most of a body can hold none of it, so each stage narrows the next (figures in
bench/RESULTS.md): one automaton pass over the raw bytes (`prefilter`) names the detectors that
could fire at all, and most bodies end there; a JSON document is walked once for the values
those detectors could flag (`jsonwalk`, which skips whole columns of records); and each
detector opens with a cheap `str` test before its regex."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from typing import NamedTuple

import orjson

from middlebrick.checks.analyzers.jsonwalk import (
    Candidate,
    Name,
    Paths,
    Plan,
    over_candidates,
)
from middlebrick.checks.analyzers.prefilter import DETECTORS, detectors, shapes

MAX_TEXT = 1 << 20  # the body cap; a JSON document is also cut to jsonwalk.MAX_NODES nodes


class Hit(NamedTuple):
    """One finding in a body. A named tuple rather than a frozen dataclass: a dense body makes
    thousands, and a frozen dataclass takes twice as long to build."""

    kind: str  # "credit card number", "AWS access key", "bcrypt hash", ...
    family: str  # "pii", "secret", "hash", "plaintext password"
    value: str
    where: str  # JSON path ($.users[2].ssn) or "body"


# --- secrets ---------------------------------------------------------------------------------
_SECRET_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("AWS access key id", re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")),
    ("GitHub token", re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36,255}\b")),
    ("GitHub fine-grained token", re.compile(r"\bgithub_pat_[A-Za-z0-9_]{60,}\b")),
    ("Slack token", re.compile(r"\bxox[baprs]-[A-Za-z0-9-]{10,}\b")),
    ("Stripe secret key", re.compile(r"\b(?:sk|rk)_live_[A-Za-z0-9]{20,}\b")),
    ("Google API key", re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b")),
    (
        "private key",
        re.compile(r"-----BEGIN (?:RSA |EC |OPENSSH |DSA |ENCRYPTED )?PRIVATE KEY-----"),
    ),
    # header.payload.signature, both JSON objects (`{"` is `eyJ` in base64url), signed
    (
        "JSON Web Token",
        re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{16,}"),
    ),
    (
        "connection string with password",
        re.compile(
            r"\b(?:postgres(?:ql)?|mysql|mongodb(?:\+srv)?|redis|amqps?)://[^\s:/@]+:[^\s@/]{3,}@[^\s/]+"
        ),
    ),
)
_SECRET_HINTS = (
    "AKIA",
    "ASIA",
    "gh",
    "github_pat_",
    "xox",
    "_live_",
    "AIza",
    "PRIVATE KEY",
    "://",
    "eyJ",
)

# --- password hashes -------------------------------------------------------------------------
_HASHES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("bcrypt hash", re.compile(r"^\$2[abxy]?\$\d\d\$[./A-Za-z0-9]{53}$")),
    (
        "argon2 hash",
        re.compile(
            r"^\$argon2(?:id|i|d)\$v=\d+\$m=\d+,t=\d+,p=\d+\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$"
        ),
    ),
    (
        "sha-crypt hash",
        re.compile(r"^\$[56]\$(?:rounds=\d+\$)?[./A-Za-z0-9]{1,16}\$[./A-Za-z0-9]{43,86}$"),
    ),
    (
        "Werkzeug password hash",
        re.compile(r"^(?:pbkdf2:sha\d+(?::\d+)?|scrypt:\d+:\d+:\d+)\$[^$\s]+\$[0-9a-f]{40,}$"),
    ),
    (
        "Django password hash",
        re.compile(r"^(?:pbkdf2_sha\d+|argon2|bcrypt_sha256)\$[^\s]+\$[A-Za-z0-9+/=]{20,}$"),
    ),
)
_HEX_DIGEST = re.compile(r"^[0-9a-f]{32}$|^[0-9a-f]{40}$|^[0-9a-f]{64}$", re.I)
_MASKED = re.compile(r"^[*•x#.]+$|^\[?(?:redacted|hidden|filtered)\]?$", re.I)

# --- personal data ---------------------------------------------------------------------------
# Digits are ASCII digits: a number in another script is not a card, an IBAN or an SSN here.
_IBAN = re.compile(r"\b[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b")
_SSN = re.compile(r"(?<![\d-])([0-9]{3})-([0-9]{2})-([0-9]{4})(?![\d-])")
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9.-]+\.[A-Za-z]{2,24}")
_EXAMPLE_DOMAINS = frozenset({"example.com", "example.org", "example.net", "test.com", "localhost"})
_ROLE_ACCOUNTS = frozenset({"noreply", "no-reply", "support", "info"})
_DIGIT_RUN = re.compile(r"[0-9](?:[ -]?[0-9]){12,18}")
_CARD_PREFIXES = re.compile(r"^(?:4|5[1-5]|2[2-7]|3[47]|6(?:011|5)|3(?:0[0-5]|[68])|35)")
_TEST_CARDS = frozenset(
    {"4111111111111111", "4242424242424242", "5555555555554444", "378282246310005"}
)


def luhn(digits: str) -> bool:
    total = 0
    for i, char in enumerate(reversed(digits)):
        d = int(char)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def iban_valid(text: str) -> bool:
    compact = text.replace(" ", "")
    if not 15 <= len(compact) <= 34:
        return False
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(c, 36)) for c in rearranged)) % 97 == 1


def ssn_valid(area: str, group: str, serial: str) -> bool:
    a = int(area)
    return a not in (0, 666) and a < 900 and group != "00" and serial != "0000"


# --- one value -------------------------------------------------------------------------------
# A finding before it has a place: (kind, family, value).
_Found = tuple[str, str, str]


# documentation values: AWS's own `AKIAIOSFODNN7EXAMPLE`, `user:password@localhost`
_SAMPLE = re.compile(r"example|sample|dummy|placeholder|your[_-]?", re.I)
_PLACEHOLDER_PASSWORD = re.compile(
    r":(?:password|passwd|pass|pwd|secret|changeme|xxx+|\*+|<[^>]*>|\$\{[^}]*\}|\{[^}]*\})@", re.I
)


def _secrets(value: str) -> list[_Found]:
    if not any(hint in value for hint in _SECRET_HINTS):
        return []
    return [
        (kind, "secret", found)
        for kind, pattern in _SECRET_PATTERNS
        for found in pattern.findall(value)
        if not (_SAMPLE.search(found) or _PLACEHOLDER_PASSWORD.search(found))
        and (kind != "JSON Web Token" or jwt_header(found) is not None)
    ]


def jwt_header(token: str) -> dict[str, object] | None:
    """The decoded header of a JWT-shaped value if it is a JOSE header (an object with `alg`)."""
    head = token.partition(".")[0]
    try:
        decoded = json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))
    except (ValueError, UnicodeDecodeError):
        return None
    return decoded if isinstance(decoded, dict) and "alg" in decoded else None


def _pii(value: str, plan: Plan) -> list[_Found]:
    """Personal data in `value`. Each detector of `plan` starts with the cheap test of
    `Plan.keeps`."""
    found: list[_Found] = []
    # a card-like run needs 13 characters, and a value of letters and digits holds one only if
    # it is all digits (the run may not touch a letter)
    if plan.card and len(value) >= 13 and (value.isdigit() or not value.isalnum()):
        found += _cards(value)
    if plan.ssn and "-" in value:
        for match in _SSN.finditer(value):
            if ssn_valid(*match.groups()):
                found.append(("US social security number", "pii", match.group(0)))
    if plan.email and "@" in value:
        for address in _emails(value):
            if not (plan.examples and _is_example(address)):
                found.append(("e-mail address", "pii", address))
    if plan.iban and (value[:1].isupper() or value[1:2].isupper() or " " in value):
        for match in _IBAN.finditer(value):
            if iban_valid(match.group(0)):
                found.append(("IBAN", "pii", match.group(0)))
    return found


def _cards(value: str) -> Iterator[_Found]:
    """Luhn-valid runs of 13-19 digits (spaces or dashes allowed) with an issuer prefix."""
    for run in _DIGIT_RUN.finditer(value):
        start, end = run.span()
        before = value[start - 1] if start else " "
        after = value[end] if end < len(value) else " "
        if before in ".-_" or after in ".-_" or before.isalnum() or after.isalnum():
            continue  # part of a float, a hex token, a version or a longer code
        digits = run.group(0).replace(" ", "").replace("-", "")
        if not 13 <= len(digits) <= 19 or not digits.isdigit():
            continue
        if _CARD_PREFIXES.match(digits) and luhn(digits) and digits not in _TEST_CARDS:
            yield "payment card number", "pii", run.group(0).strip()


def _emails(text: str) -> list[str]:
    """The addresses `_EMAIL.finditer(text)` finds, less scp-style ones (`git@github.com:o/r`).
    In a long text the search starts only 64 characters (the longest local part) before each
    '@', not at every position."""
    if len(text) < 1024 and ":" not in text:
        return _EMAIL.findall(text)  # the usual value: no scp-style address to tell apart
    found = []
    pos = 0
    while (at := text.find("@", pos)) != -1 and (match := _EMAIL.search(text, max(pos, at - 64))):
        pos = match.end()
        if text[pos : pos + 1] != ":":
            found.append(match.group(0))
    return found


def _is_example(address: str) -> bool:
    """A documentation or role address (`_EMAIL` matches ASCII only, so `lower` is exact)."""
    local, _, domain = address.lower().partition("@")
    return domain in _EXAMPLE_DOMAINS or local in _ROLE_ACCOUNTS


_PHONE = re.compile(r"^\+?[\d\s().-]{7,24}$")


def phone_number(value: str) -> bool:
    """A phone number as written in a phone-named field: 7-15 digits (E.164), some variety, and
    not a fictional 555 number."""
    if not _PHONE.match(value):
        return False
    digits = "".join(c for c in value if c.isdigit())
    if not 7 <= len(digits) <= 15 or len(set(digits)) <= 2:
        return False
    national = digits[-10:]  # NANP: area code 555 and 555-01xx are reserved for fiction
    return not (len(digits) >= 10 and (national[:3] == "555" or national[3:8] == "55501"))


def _field(name: Name, value: str, plan: Plan) -> Iterator[_Found]:
    """Judgements that need the field name."""
    if not value or _MASKED.match(value):
        return
    if name.phone and phone_number(value):
        yield "phone number", "pii", value
        return
    if plan.hash and "$" in value:  # every hash format has a '$'
        for kind, pattern in _HASHES:
            if pattern.match(value):
                yield kind, "hash", value
                return
    if name.password:
        kind = "unsalted digest" if _HEX_DIGEST.match(value) else "plaintext password"
        yield kind, "hash" if kind == "unsalted digest" else "plaintext password", value
    elif name.secret and len(value) >= 16 and _entropy_ok(value) and not _PUBLISHABLE.match(value):
        yield f"secret in field {name.text!r}", "secret", value


# keys made to be published in web pages and apps: Stripe publishable, Mapbox public, PostHog
# project keys (their secret counterparts are `sk_`, `sk.` and `phx_`)
_PUBLISHABLE = re.compile(r"pk_(?:live|test)_|pk\.eyJ|phc_")


def _entropy_ok(value: str) -> bool:
    """Looks random: several character classes and few repeats (not a sentence or a sample)."""
    if " " in value or value.lower().startswith(("your", "example", "sample", "xxx", "<")):
        return False
    if _SAMPLE.search(value):
        return False
    classes = sum(bool(re.search(p, value)) for p in (r"[a-z]", r"[A-Z]", r"\d"))
    return classes >= 2 and len(set(value)) >= len(value) // 3


# --- bodies ----------------------------------------------------------------------------------
def scan_body(body: bytes, is_json: bool) -> list[Hit]:
    """Every hit in a response body (JSON walked with paths, anything else as text)."""
    raw = body[:MAX_TEXT]
    found = shapes(raw)
    in_text = detectors(found, json=False)
    if is_json:
        # the automaton reads UTF-8; JSON in UTF-16 or UTF-32 gets every detector
        utf8 = json.detect_encoding(raw) in ("utf-8", "utf-8-sig")
        in_json = detectors(found, json=True) if utf8 else DETECTORS
        if in_json or in_text:  # else there is nothing to find, JSON or not
            document = _parse(raw)
            if document is not None:
                return _json_hits(document, Plan.of(in_json)) if in_json else []
    if not in_text:
        return []
    text = raw.decode("utf-8", errors="replace")
    plan = Plan.of(in_text)
    hits: dict[tuple[str, str], Hit] = {}
    for kind, family, value in (_secrets(text) if plan.secret else []) + _pii(text, plan):
        hits.setdefault((kind, value), Hit(kind, family, value, "body"))
    return list(hits.values())


def _parse(raw: bytes) -> object:
    """The JSON document, or None. orjson is twice as fast as the stdlib; what it refuses
    (NaN, lone surrogates, UTF-16, nesting past 1024) goes to the stdlib, which decides. orjson
    reads integers past 64 bits as floats: as text, such integers could not hold a card."""
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        pass
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        return None


def _json_hits(document: object, plan: Plan) -> list[Hit]:
    return over_candidates(document, plan, lambda candidates: _judge(candidates, plan))


def _judge(candidates: Iterator[Candidate], plan: Plan) -> list[Hit]:
    """Hits in document order, each (kind, value) at its first place only."""
    if plan.needle() == "@":
        return _judge_emails(candidates, plan.examples)
    hits: list[Hit] = []
    seen: dict[str, set[str]] = {}  # kind: values
    quiet: set[str] = set()  # values without a hit: they repeat in lists of records
    paths = Paths()
    by_name = plan.names or plan.hash
    for name, value, frame, step in candidates:
        if value in quiet and not name.matters:
            continue
        found = _pii(value, plan)
        if plan.secret:
            found[:0] = _secrets(value)
        if by_name:
            found[:0] = _field(name, value, plan)
        if not found:
            quiet.add(value)
            continue
        where = ""
        for kind, family, text in found:
            if text not in (known := seen.setdefault(kind, set())):
                known.add(text)
                where = where or paths(frame, step)
                hits.append(Hit(kind, family, text, where))
    return hits


def _judge_emails(candidates: Iterator[Candidate], examples: bool) -> list[Hit]:
    """`_judge` when e-mail addresses are all there can be (a list of users, the usual dense
    body): `_pii` inlined, one call per value instead of four."""
    hits: list[Hit] = []
    seen: set[str] = set()
    paths = Paths()
    findall = _EMAIL.findall
    for _, value, frame, step in candidates:
        found = findall(value) if len(value) < 1024 and ":" not in value else _emails(value)
        for address in found:
            if address not in seen and not (examples and _is_example(address)):
                seen.add(address)
                hits.append(Hit("e-mail address", "pii", address, paths(frame, step)))
    return hits
