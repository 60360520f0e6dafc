"""URLs that carry credentials: an API that hands out links with a password, token or API key
in the query string (CWE-598). Passive, over headers and bodies of every recorded answer."""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import parse_qsl, unquote, urlsplit

from middlebrick.checks._check import check
from middlebrick.checks._context import Context, RawFinding
from middlebrick.http.exchange import Exchange, mask_value
from middlebrick.model import Category, Confidence, Kind, Severity

_LINK_HEADERS = ("location", "content-location", "link", "refresh")
# a URL with a query, absolute or a quoted relative path (JSON strings, HTML attributes)
_URL = re.compile(r"""(?:\bhttps?://|(?<=["'(=])/)[^\s"'<>\\]*\?[^\s"'<>\\]+""")
_CREDENTIAL_PARAM = re.compile(
    r"^(?:password|passwd|pwd|pass|secret|client_secret|api_?key|apikey|x-api-key|"
    r"access_?token|refresh_?token|id_?token|auth_?token|auth|token|bearer|"
    r"session_?id|sessionid|jsessionid|phpsessid|private_?key)$|"
    r"(?:^|_)(?:password|passwd|secret|api_?key|access_?token|auth_?token)$",
    re.I,
)
_HINTS = ("pass", "pwd", "secret", "key", "token", "auth", "sess", "bearer")
# capability URLs signed for one object and a short time are the design of cloud storage
_SIGNED = re.compile(r"(?:^|&)(?:X-Amz-Signature|X-Goog-Signature|Signature|sig|se)=", re.I)
_PLACEHOLDER = re.compile(
    r"^(?:[{<\[$%].*|.*[}>\]]|x+|\*+|null|none|undefined|redacted|\.\.\.|your.*|example.*|"
    r"changeme|secret|password|token|test)$",
    re.I,
)
MIN_VALUE = 8
MAX_TEXT = 1 << 20


def credential_params(url: str) -> list[tuple[str, str]]:
    """(name, value) of the query parameters of `url` that carry a credential-like value."""
    query = urlsplit(url).query
    if not query or _SIGNED.search(query):
        return []
    found = []
    for name, value in parse_qsl(query, keep_blank_values=False):
        if (
            _CREDENTIAL_PARAM.search(name)
            and len(value) >= MIN_VALUE
            and not _PLACEHOLDER.match(value)
        ):
            found.append((name, value))
    return found


def _candidates(ex: Exchange) -> Iterator[tuple[str, str]]:
    """(where, URL) for every URL with a query in the answer's link headers and body."""
    assert ex.response is not None
    for name, value in ex.response.headers:
        if name.lower() in _LINK_HEADERS and "?" in value:
            for url in _URL.findall(value) or [value.strip()]:
                yield f"{name} header", url.strip("<>;")
    text = ex.response.text(MAX_TEXT)
    if "?" not in text or not any(hint in text.lower() for hint in _HINTS):
        return
    text = text.replace("\\/", "/").replace("\\u0026", "&")
    for url in _URL.findall(text):
        yield "body", url.replace("&amp;", "&")


@check(
    id="MB-DATA-017",
    title="Response hands out URLs with credentials in the query",
    category=Category.DATA_EXPOSURE,
    severity=Severity.MEDIUM,
    cwe=(598,),
    owasp="API2:2023",
    kind=Kind.PASSIVE,
)
def credentials_in_returned_urls(ctx: Context) -> Iterator[RawFinding]:
    """A redirect (`Location`), a `Link` header or a URL in the body carries a password, token,
    API key or session id as a query parameter.

    Whoever follows the link writes the credential into browser history, server and proxy access
    logs and the `Referer` of the next page; a password-reset or magic-login token handed back to
    the requester is an account takeover. Pagination cursors (`page_token`, `next_token`), signed
    storage URLs (`X-Amz-Signature`), templates (`{token}`) and placeholders are not reported.
    """
    for ex in ctx.exchanges():
        seen: set[tuple[str, str]] = set()
        for where, url in _candidates(ex):
            for name, value in credential_params(url):
                if (name, value) in seen or value in unquote(ex.request.url):
                    continue  # repeated, or the scanner's own request reflected
                seen.add((name, value))
                yield ctx.finding(
                    ex,
                    f"a URL in the {where} of the answer to {urlsplit(ex.request.url).path} "
                    f"carries {name!r} in its query",
                    key=name,
                    confidence=Confidence.FIRM,
                    excerpt=f"{where}: …?{name}={mask_value(value)}",
                    secrets=[value],
                )
