"""Secrets in settings and free text: which names hold credentials, which values are live (not
masked, a placeholder or a reference), and where they are in a configuration document, an
environment dump or a log line. Pure, bounded, no I/O; shared by the exposed-file and
debug-endpoint checks."""

from __future__ import annotations

import re
from collections.abc import Iterator

from middlebrick.checks.analyzers.content import scan_body

MAX_NODES = 50_000
MAX_SECRETS = 200  # per answer; the first are the ones a report's excerpts can show

Setting = tuple[str, str]

_CREDENTIAL_IN_TEXT = re.compile(
    r"(?:authorization['\"]?[ \t]*[:=][ \t]*['\"]?(?:basic|bearer)[ \t]+"
    r"(?P<auth>[A-Za-z0-9+/=._~-]{8,}))|"
    r"(?:\b[a-z0-9_]*?(?:password|passwd|pwd|secret|api_?key|token)(?:_?key)?\b['\"\]]*[ \t]*"
    r"[=:][ \t]*['\"]?(?P<value>[^\s'\",;&]{4,}))",
    re.I,
)
# a value that is code reading the secret from elsewhere, not the secret itself
_INDIRECT = re.compile(r"[()\[\]{}<>$]|^(?:os\.|env|process\.|settings\.|config\.)", re.I)
# Name-based, for dotted, dashed and camelCase setting names (`spring.datasource.password`,
# `DB_PASS`, `jwtSecret`); content.scan_body only judges whole, exact field names, and adds the
# secrets recognisable by their format (cloud keys, tokens, connection strings).
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_SECRET_NAME = re.compile(
    r"(?:^|_)(?:password|passwd|pass|pwd|passphrase|secret|token|"
    r"(?:api|secret|private|access|signing|encryption|master|client|app|auth|license)_?key)$"
)
_NOT_SECRET_NAMES = frozenset({"pwd", "oldpwd"})  # the shell's working directories
# Meant for browsers: publishable and site keys, variables a front-end build inlines, Firebase web
# configs (their apiKey names the project; it grants nothing).
_PUBLIC_NAME = re.compile(
    r"(?:^|_)(?:public|publishable|site|browser)(?:_|$)|"
    r"^(?:next_public|react_app|vite|expo_public|nuxt_public|gatsby)_"
)
_PUBLIC_VALUE = re.compile(r"^pk[._]")  # Stripe, Mapbox
_PLACEHOLDER = re.compile(
    r"^(?:[*•x#._-]+|<[^>]*>|\[[^\]]*\]|\$\{[^}]*\}|\{\{[^}]*\}\}|%\(\w+\)s|(?-i:\$[A-Z_][A-Z0-9_]*)|"
    r"(?:env|vault|file|secret|secrets|ssm|awssm|gcpsm|azurekv):.*|your[-_ ].*|"
    r"none|null|nil|undefined|true|false|yes|no|on|off|todo|tbd|n/?a|empty|default|changeme|"
    r"change[-_ ]?me|changeit|secret|password|passwd|redacted|hidden|masked|filtered|removed|"
    r"placeholder|dummy|test)$",
    re.I,
)
_URL_PASSWORD = re.compile(r"\b[a-z][a-z0-9+.-]*://[^\s:/@]+:([^\s@/]+)@", re.I)

_TAG = re.compile(r"<[^>]{0,200}>")


def credentials_in(text: str) -> list[str]:
    """Credential values in free text (logs, sources): Authorization values, password=… pairs."""
    found = []
    for match in _CREDENTIAL_IN_TEXT.finditer(text):
        value = match.group("auth") or match.group("value")
        if not value or _INDIRECT.search(value):
            continue
        if value.lower() not in ("none", "null", "true", "false", "redacted", "changeme", "****"):
            found.append(value)
    return found


def _normal(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", _CAMEL.sub("_", name).lower()).strip("_")


def secret_name(name: str) -> bool:
    """`spring.datasource.password`, `DB_PASS`, `jwtSecret`, `STRIPE_API_KEY`: a setting whose
    value is a credential (judged on the last words of the name)."""
    normal = _normal(name)
    return normal not in _NOT_SECRET_NAMES and _SECRET_NAME.search(normal) is not None


def public_setting(name: str, value: str) -> bool:
    """A value published on purpose: `stripe_publishable_key`, `NEXT_PUBLIC_…`, `pk.…`."""
    return _PUBLIC_NAME.search(_normal(name)) is not None or _PUBLIC_VALUE.match(value) is not None


def real_secret(value: str) -> bool:
    """Not empty, masked (`******`, `sk-…9f2c`), a placeholder or a reference (`${DB_PASSWORD}`,
    `<redacted>`, `changeme`, `your-api-key`): a value someone could use."""
    value = value.strip()
    return (
        4 <= len(value) <= 4096
        and _PLACEHOLDER.match(value) is None
        and "***" not in value
        and "…" not in value
        and "example" not in value.lower()
    )


def secret_settings(document: object) -> list[Setting]:
    """(name, value) of every unmasked credential in a JSON document: values of secret-named
    settings, passwords in URLs, `password=…` inside command lines and connection strings.
    Spring's `{"value": …}` wrappers and `[{"name": …, "value": …}]` lists are understood."""
    found: list[Setting] = []
    for name, value in settings_in(document):
        if public_setting(name, value):
            continue
        if secret_name(name) and real_secret(value):
            found.append((name, value.strip()))
            continue
        found += [(name, v) for v in _URL_PASSWORD.findall(value) if real_secret(v)]
        if "=" in value:  # a command line or a DSN; prose with "password: …" is not
            found += [(name, v) for v in credentials_in(value) if real_secret(v)]
    return unique_settings(found)


def settings_in(document: object) -> Iterator[Setting]:
    """(setting name, string value) for every scalar string, bounded."""
    stack: list[tuple[str, object]] = [("", document)]
    seen = 0
    while stack and seen < MAX_NODES:
        name, node = stack.pop()
        seen += 1
        if isinstance(node, str):
            yield name, node
        elif isinstance(node, list):
            stack.extend((name, item) for item in reversed(node))
        elif isinstance(node, dict):
            pair = isinstance(node.get("name"), str) and isinstance(node.get("value"), str)
            if pair:
                yield node["name"], node["value"]  # [{"name": "DB_PASSWORD", "value": "…"}]
            public = "public_" if "authDomain" in node and "apiKey" in node else ""  # Firebase
            for key, value in reversed(list(node.items())):
                if pair and key in ("name", "value"):
                    continue
                if isinstance(value, dict) and isinstance(value.get("value"), str):
                    yield str(key), value["value"]  # Spring: {"db.password": {"value": "…"}}
                else:
                    stack.append((public + str(key), value))


def format_secrets(body: bytes, is_json: bool) -> list[Setting]:
    """Secrets recognisable by their shape alone (cloud keys, tokens, connection strings)."""
    return [
        (hit.where, hit.value)
        for hit in scan_body(body, is_json)
        if hit.family in ("secret", "plaintext password") and real_secret(hit.value)
    ]


def text_secrets(text: str) -> list[Setting]:
    """Credentials in free text (`password=…` pairs, Authorization values, URL passwords, known
    token formats), each named by the line it is on."""
    values = [v for v in credentials_in(text) if real_secret(v)]
    values += [v for v in _URL_PASSWORD.findall(text) if real_secret(v)]
    values += [v for _, v in format_secrets(text.encode(), is_json=False)]
    lines = text.splitlines()
    return unique_settings(
        [(next((_around(ln, v) for ln in lines if v in ln), ""), v) for v in values]
    )


def _around(line: str, value: str, room: int = 100) -> str:
    """The line around `value`, tags dropped; never cut inside the value, which masking needs
    whole."""
    line = " ".join(_TAG.sub(" ", line).split())
    start = line.find(value)
    return line[max(0, start - room) : start + len(value) + room // 2]


def unique_settings(found: list[Setting]) -> list[Setting]:
    """One entry per value; a value that holds another (a DSN around its password) is dropped,
    so the excerpt shows the rest of it."""
    found = found[:MAX_SECRETS]
    values = {value for _, value in found}
    seen: set[str] = set()
    out: list[Setting] = []
    for name, value in found:
        if value not in seen and not any(v != value and v in value for v in values):
            seen.add(value)
            out.append((name, value))
    return out
