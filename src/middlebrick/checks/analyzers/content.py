"""Find personal data, secrets and password hashes in response bodies. Pure, bounded, no I/O.

Values are checked by structure, not just shape: card numbers by Luhn and issuer prefix, IBANs
by mod-97, US SSNs by the SSA's area/group/serial rules. JSON is walked with its paths, so the
field name can confirm a value (a 40-character hex string is a hash only under a password-like
name; anywhere else it is a commit id or a digest).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass

MAX_NODES = 100_000
MAX_TEXT = 1 << 20


@dataclass(frozen=True, slots=True)
class Hit:
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
    (
        "connection string with password",
        re.compile(
            r"\b(?:postgres(?:ql)?|mysql|mongodb(?:\+srv)?|redis|amqps?)://[^\s:/@]+:[^\s@/]{3,}@[^\s/]+"
        ),
    ),
)
_SECRET_NAME = re.compile(
    r"(?:^|_)(?:secret|client_secret|api_?key|private_?key|access_?key|secret_?key|auth_?token|"
    r"access_?token|refresh_?token)$",
    re.I,
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
_PASSWORD_NAME = re.compile(
    r"^(?:password|passwd|pwd|pass|password_?hash|hashed_?password|pw_?hash)$", re.I
)
_MASKED = re.compile(r"^[*•x#.]+$|^\[?(?:redacted|hidden|filtered)\]?$", re.I)

# --- personal data ---------------------------------------------------------------------------
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b")
_SSN = re.compile(r"(?<![\d-])(\d{3})-(\d{2})-(\d{4})(?![\d-])")
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9.-]+\.[A-Za-z]{2,24}")
_EXAMPLE = re.compile(
    r"@(?:example\.(?:com|org|net)|test\.com|localhost)$|^(?:noreply|no-reply|support|info)@", re.I
)
_CARD_PREFIXES = re.compile(r"^(?:4|5[1-5]|2[2-7]|3[47]|6(?:011|5)|3(?:0[0-5]|[68])|35)")
_CARD_NAME = re.compile(r"card|(?:^|_)pan$|cc_?num|account_?number", re.I)
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


_DIGIT_RUN = re.compile(r"\d(?:[ -]?\d){12,18}")
_SECRET_HINTS = ("AKIA", "ASIA", "gh", "github_pat_", "xox", "_live_", "AIza", "PRIVATE KEY", "://")


def _pii(value: str, where: str) -> Iterator[Hit]:
    # cheap tests first: most values hold no digit run, no '@', no IBAN-like token
    if _DIGIT_RUN.search(value):
        yield from _cards(value, where)
    if "-" in value:
        for match in _SSN.finditer(value):
            if ssn_valid(*match.groups()):
                yield Hit("US social security number", "pii", match.group(0), where)
    if "@" in value:
        for match in _EMAIL.finditer(value):
            if value[match.end() : match.end() + 1] == ":":
                continue  # git@github.com:owner/repo — an scp-style address, not a mailbox
            if not _EXAMPLE.search(match.group(0)):
                yield Hit("e-mail address", "pii", match.group(0), where)
    if any(c.isupper() for c in value[:2]) or " " in value:
        for match in _IBAN.finditer(value):
            if iban_valid(match.group(0)):
                yield Hit("IBAN", "pii", match.group(0), where)


def _cards(value: str, where: str) -> Iterator[Hit]:
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
            yield Hit("payment card number", "pii", run.group(0).strip(), where)


# documentation values: AWS's own `AKIAIOSFODNN7EXAMPLE`, `user:password@localhost`
_SAMPLE = re.compile(r"example|sample|dummy|placeholder|your[_-]?", re.I)
_PLACEHOLDER_PASSWORD = re.compile(
    r":(?:password|passwd|pass|pwd|secret|changeme|xxx+|\*+|<[^>]*>|\$\{[^}]*\}|\{[^}]*\})@", re.I
)


def _secrets(value: str, where: str) -> Iterator[Hit]:
    if not any(hint in value for hint in _SECRET_HINTS):
        return
    for kind, pattern in _SECRET_PATTERNS:
        for match in pattern.finditer(value):
            found = match.group(0)
            if _SAMPLE.search(found) or _PLACEHOLDER_PASSWORD.search(found):
                continue
            yield Hit(kind, "secret", found, where)


_PHONE_NAME = re.compile(r"phone|mobile|(?:^|_)(?:tel|telephone|cell|msisdn|fax)(?:_|$)", re.I)
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


def _field(name: str, value: str, where: str) -> Iterator[Hit]:
    """Judgements that need the field name."""
    if not value or _MASKED.match(value):
        return
    if _PHONE_NAME.search(name) and phone_number(value):
        yield Hit("phone number", "pii", value, where)
        return
    for kind, pattern in _HASHES:
        if pattern.match(value):
            yield Hit(kind, "hash", value, where)
            return
    if _PASSWORD_NAME.match(name):
        kind = "unsalted digest" if _HEX_DIGEST.match(value) else "plaintext password"
        yield Hit(kind, "hash" if kind == "unsalted digest" else "plaintext password", value, where)
    elif _SECRET_NAME.search(name) and len(value) >= 16 and _entropy_ok(value):
        yield Hit(f"secret in field {name!r}", "secret", value, where)


def _entropy_ok(value: str) -> bool:
    """Looks random: several character classes and few repeats (not a sentence or a sample)."""
    if " " in value or value.lower().startswith(("your", "example", "sample", "xxx", "<")):
        return False
    if _SAMPLE.search(value):
        return False
    classes = sum(bool(re.search(p, value)) for p in (r"[a-z]", r"[A-Z]", r"\d"))
    return classes >= 2 and len(set(value)) >= len(value) // 3


# Cheap whole-body tests (substring scans and regexes that start with a literal class) tell
# whether any analyzer could fire; most API bodies have no candidate and skip the walk.
_LITERAL_HINTS = (
    "@",
    "://",
    "$2",
    "$argon2",
    "$5$",
    "$6$",
    "pbkdf2",
    "scrypt:",
    "AKIA",
    "ASIA",
    "ghp_",
    "gho_",
    "ghu_",
    "ghs_",
    "ghr_",
    "github_pat_",
    "xox",
    "_live_",
    "AIza",
    "PRIVATE KEY",
)
_NAME_HINTS = (
    *("passw", "pwd", "secret", "api_key", "apikey", "access_key", "accesskey", "_token"),
    *("phone", "mobile", "msisdn", '"tel', "_tel", '"fax', '"cell'),
)
_QUICK = (re.compile(r"\d{3}-\d{2}-\d{4}"), re.compile(r"[A-Z]{2}\d{2}[A-Z0-9]{4}"))
_QUICK_DIGITS = re.compile(r"\d{4}[ -]?\d{4}[ -]?\d{4}[ -]?\d+")


def _has_candidates(raw: str) -> bool:
    if any(hint in raw for hint in _LITERAL_HINTS):
        return True
    lowered = raw.lower()
    if any(hint in lowered for hint in _NAME_HINTS):
        return True
    if any(pattern.search(raw) for pattern in _QUICK):
        return True
    for run in _QUICK_DIGITS.finditer(raw):  # floats and hex tokens are not card numbers
        start, end = run.span()
        before = raw[start - 1] if start else " "
        after = raw[end] if end < len(raw) else " "
        if not (before in "._" or before.isalnum() or after in "._" or after.isalnum()):
            return True
    return False


def scan_body(body: bytes, is_json: bool) -> list[Hit]:
    """Every hit in a response body (JSON walked with paths, anything else as text)."""
    hits: list[Hit] = []
    if not _has_candidates(body[:MAX_TEXT].decode("utf-8", errors="replace")):
        return hits
    if is_json:
        try:
            document = json.loads(body[:MAX_TEXT])
        except (ValueError, RecursionError):
            document = None
        if document is not None:
            for name, value, where in _walk(document):
                if len(value) < 6 and not _name_matters(name):
                    continue  # too short to be any of it, unless the name says password
                if value.isdigit() and not (_CARD_NAME.search(name) or _PHONE_NAME.search(name)):
                    continue  # numeric ids and counters, however card-like their digits
                hits += _field(name, value, where)
                hits += _secrets(value, where)
                hits += _pii(value, where)
            return _unique(hits)
    text = body[:MAX_TEXT].decode("utf-8", errors="replace")
    return _unique([*_secrets(text, "body"), *_pii(text, "body")])


@functools.lru_cache(maxsize=4096)
def _name_matters(name: str) -> bool:
    return bool(_PASSWORD_NAME.match(name) or _SECRET_NAME.search(name) or _PHONE_NAME.search(name))


def _walk(document: object) -> Iterator[tuple[str, str, str]]:
    """(field name, string value, JSON path) for every scalar, bounded."""
    stack: list[tuple[str, object, str]] = [("", document, "$")]
    seen = 0
    while stack and seen < MAX_NODES:
        name, node, path = stack.pop()
        seen += 1
        if isinstance(node, dict):
            stack.extend((str(k), v, f"{path}.{k}") for k, v in reversed(list(node.items())))
        elif isinstance(node, list):
            stack.extend((name, v, f"{path}[{i}]") for i, v in reversed(list(enumerate(node))))
        elif isinstance(node, str):
            yield name, node, path
        elif isinstance(node, int) and not isinstance(node, bool) and name:
            yield name, str(node), path  # card numbers stored as numbers


def _unique(hits: list[Hit]) -> list[Hit]:
    seen: set[tuple[str, str]] = set()
    out = []
    for hit in hits:
        if (hit.kind, hit.value) not in seen:
            seen.add((hit.kind, hit.value))
            out.append(hit)
    return out
