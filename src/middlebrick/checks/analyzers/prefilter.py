"""Which content detectors could fire anywhere in a body, from one pass of a combined automaton
(an RE2 set) over the raw bytes: most bodies end there, the rest skip the detectors that cannot.

Each shape here is a superset of what its detector matches in the *decoded* values, so a body
without a shape cannot hold that detector's hit. JSON escapes are the one way a decoded value
differs from its bytes: `\\/` is allowed for where it matters (`://`), and a `\\u00XX` escape of a
character a detector could use turns every detector on.
"""

from __future__ import annotations

import enum
import functools

import re2


class Shape(enum.IntFlag):
    EMAIL = enum.auto()
    EXAMPLE_EMAIL = enum.auto()  # a documentation or role address (example.com, noreply@)
    HASH = enum.auto()  # a password-hash prefix: `$2b$`, `$argon2`, `pbkdf2:`, …
    SECRET = enum.auto()  # a token prefix, a private-key header or a URL with a password
    SSN = enum.auto()
    IBAN = enum.auto()
    CARD = enum.auto()  # 13+ digits, spaces or dashes between, that no letter or '.' precedes
    NAME = enum.auto()  # a password-, secret- or phone-like field name
    DIGITS_NAME = enum.auto()  # a card- or phone-like field name (digits alone count only there)
    # read by `detectors`, never returned by it:
    # 13+ digits right after a quote: a card in text; in JSON, an id unless the name says card
    DIGITS_AFTER_QUOTE = enum.auto()
    ESCAPE = enum.auto()  # a JSON \u00XX escape of a character some detector looks at


DETECTORS = (
    Shape.EMAIL
    | Shape.EXAMPLE_EMAIL
    | Shape.HASH
    | Shape.SECRET
    | Shape.SSN
    | Shape.IBAN
    | Shape.CARD
    | Shape.NAME
    | Shape.DIGITS_NAME
)

# a card-like run as `content` reads it: 13 to 19 digits, a space or a dash allowed between any
# two, not followed by a letter, a digit, '.', '-' or '_'
_RUN = rb"[0-9](?:[ -]?[0-9]){12,18}(?:[^0-9A-Za-z.\-_]|$)"
# the same run with a separator, the first one after k digits
_SPLIT_RUN = b"|".join(
    b"[0-9]{%d}[ -][0-9](?:[ -]?[0-9]){%d,%d}" % (k, max(0, 12 - k), 18 - k) for k in range(1, 18)
)
_SPLIT_RUN += rb"|[0-9]{18}[ -][0-9]"
# ASCII characters no detector looks at (the quote, HTML's escaped characters); any other
# \u00XX escape could hide a hint, so it turns every detector on
_INERT = b"\"&'<=>"
_ESCAPES = b"|".join(b"%02x" % c for c in range(0x20, 0x80) if c not in _INERT)

_SHAPES: tuple[tuple[Shape, bytes], ...] = (
    (Shape.EMAIL, rb"@"),
    (
        Shape.EXAMPLE_EMAIL,
        rb"(?i)@(?:example\.(?:com|org|net)|test\.com|localhost)|(?:noreply|no-reply|support|info)@",
    ),
    (Shape.HASH, rb"\$(?:2|argon2|[56]\$)|pbkdf2|scrypt:|argon2\$|bcrypt_sha256\$"),
    (
        Shape.SECRET,
        rb"AKIA|ASIA|gh[pousr]_|github_pat_|xox[baprs]-|[sr]k_live_|AIza|PRIVATE KEY-----|"
        rb"eyJ[A-Za-z0-9_-]{8,}\.eyJ|"
        rb"(?:postgres(?:ql)?|mysql|mongodb(?:\+srv)?|redis|amqps?):\\?/\\?/",
    ),
    (Shape.SSN, rb"[0-9]{3}-[0-9]{2}-[0-9]{4}"),
    (Shape.IBAN, rb"[A-Z]{2}[0-9]{2} ?[A-Z0-9]{4} ?[A-Z0-9]{4}"),
    # a run that starts the body or follows a character other than a letter, a digit, '.',
    # '-', '_' or a quote (a JSON escape decodes to such a character)
    (Shape.CARD, rb"(?:^|[^.\-_0-9A-Za-z\"]|\\[bfnrt\"]|\\u[0-9a-fA-F]{4})" + _RUN),
    # a string that starts with a run and is not digits alone
    (
        Shape.CARD,
        rb"\"(?:(?:" + _SPLIT_RUN + rb")(?:[^0-9A-Za-z.\-_]|$)|[0-9]{13,19}[^\"0-9A-Za-z.\-_])",
    ),
    (Shape.DIGITS_AFTER_QUOTE, rb"\"" + _RUN),
    (
        Shape.NAME,
        # 'ſ', 'ı', 'İ' and the Kelvin sign match ASCII letters in a case-insensitive regex
        rb"(?i)pass|pwd|pw_?hash|secret|(?:api|private|access)_?key|(?:auth|access|refresh)_?token|"
        rb"phone|mobile|msisdn|[\"_](?:tel|cell|fax)|"
        rb"\xc5\xbf|\xc4[\xb0\xb1]|\xe2\x84\xaa|\\u(?:017f|013[01]|212a)",
    ),
    (
        Shape.DIGITS_NAME,
        rb"(?i)card|pan\"|cc_?num|account_?number|phone|mobile|msisdn|[\"_](?:tel|cell|fax)",
    ),
    (Shape.ESCAPE, rb"(?i)\\u00(?:" + _ESCAPES + rb")"),
)


@functools.cache
def _automaton() -> re2.Set:
    options = re2.Options()
    options.encoding = re2.Options.Encoding.LATIN1  # bytes as they are, valid UTF-8 or not
    automaton = re2.Set.SearchSet(options)
    for _, pattern in _SHAPES:
        automaton.Add(pattern)
    automaton.Compile()
    return automaton


def shapes(raw: bytes) -> Shape:
    """Every shape in `raw`. Once compiled, an RE2 set cannot fail a match (it has no fallback,
    so its DFA flushes its cache and goes on rather than give up): no shape means none there."""
    found = Shape(0)
    for index in _automaton().Match(raw) or ():  # None when nothing matches
        found |= _SHAPES[index][0]
    return found


def detectors(found: Shape, *, json: bool) -> Shape:
    """The detectors that could fire on a body with shapes `found`, walked as JSON or read as
    text."""
    if Shape.ESCAPE in found:
        return DETECTORS
    if Shape.DIGITS_AFTER_QUOTE in found and (not json or Shape.DIGITS_NAME in found):
        found |= Shape.CARD  # JSON skips strings of digits alone unless the name says card
    return found & DETECTORS
