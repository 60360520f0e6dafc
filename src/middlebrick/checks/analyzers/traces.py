"""Recognise stack traces, framework error pages and database errors in response text.

Each signature needs two independent marks (a header line and frame lines), so prose that merely
mentions "Traceback" or "Exception" does not match. Pure and bounded: only the first 256 KiB of a
body are read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

LIMIT = 256 * 1024


@dataclass(frozen=True, slots=True)
class Trace:
    kind: str  # "Python traceback", "Werkzeug debugger", ...
    excerpt: str  # the lines that matched, for evidence
    debugger: bool = False  # an interactive debugger (remote code execution)


# A substring each signature's text must contain: one fast scan before any regex runs.
_HINTS = {
    "Werkzeug interactive debugger": ("Werkzeug", "debugger caught"),
    "Django debug page": ("DEBUG = True",),
    "Python traceback": ("Traceback (most recent",),
    "Java stack trace": (".java:",),
    ".NET stack trace": ("Exception",),
    "Node.js stack trace": ("Error: ",),
    "PHP error": (".php",),
    "Ruby stack trace": (".rb:",),
    "Go panic": ("goroutine ",),
}
_SQL_HINTS = (
    "SQL",
    "psycopg",
    "sqlite3",
    "ORA-",
    "PG::",
    "quotation mark",
    "PSQLException",
    "Sequelize",
)

_SIGNATURES: tuple[tuple[str, re.Pattern[str], re.Pattern[str], bool], ...] = (
    (
        "Werkzeug interactive debugger",
        re.compile(r"Werkzeug Debugger|The debugger caught an exception"),
        re.compile(r"__debugger__|SECRET = \"|EVALEX = "),
        True,
    ),
    (
        "Django debug page",
        re.compile(r"You're seeing this error because you have <code>DEBUG = True</code>"),
        re.compile(r"Django|Request Method:|Traceback"),
        False,
    ),
    (
        "Python traceback",
        re.compile(r"Traceback \(most recent call last\):"),
        re.compile(r'File "[^"]+", line \d+'),
        False,
    ),
    (
        "Java stack trace",
        re.compile(r"(?:[a-z]\w*\.)+\w*(?:Exception|Error)\b"),
        re.compile(r"^\s+at (?:[\w$]+\.)+[\w$<>]+\([\w$]+\.java:\d+\)", re.M),
        False,
    ),
    (
        ".NET stack trace",
        re.compile(r"System\.\w+Exception|Unhandled exception"),
        re.compile(r"^\s+at [\w.`<>]+\(.*\)(?: in .+:line \d+)?", re.M),
        False,
    ),
    (
        "Node.js stack trace",
        re.compile(r"\b(?:TypeError|ReferenceError|RangeError|SyntaxError|Error): "),
        re.compile(r"^\s+at .+\((?:/|[A-Za-z]:\\|node:)[^)]*:\d+:\d+\)", re.M),
        False,
    ),
    (
        "PHP error",
        re.compile(r"(?:Fatal error|Warning|Parse error|Uncaught \w+)(?:</b>)?: "),
        re.compile(r" in (?:<b>)?/[^ <]+\.php(?:</b>)? on line (?:<b>)?\d+"),
        False,
    ),
    (
        "Ruby stack trace",
        re.compile(r"\(\w+(?:::\w+)*Error\)|\w+Error:"),
        re.compile(r"^\s*from /[^:]+\.rb:\d+:in `", re.M),
        False,
    ),
    (
        "Go panic",
        re.compile(r"^panic: ", re.M),
        re.compile(r"^goroutine \d+ \[running\]:", re.M),
        False,
    ),
)
_SQL_ERRORS = re.compile(
    r"You have an error in your SQL syntax|SQLSTATE\[\w+\]|psycopg2?\.errors\.\w+|"
    r"sqlite3\.OperationalError|ORA-\d{5}:|PG::\w+Error|Unclosed quotation mark after the "
    r"character string|org\.postgresql\.util\.PSQLException|SequelizeDatabaseError",
)


def find_trace(text: str) -> Trace | None:
    """The first framework error or stack trace in `text`, or None."""
    text = text[:LIMIT]
    for kind, header, frames, debugger in _SIGNATURES:
        if not any(hint in text for hint in _HINTS[kind]):
            continue
        head = header.search(text)
        if head is None:
            continue
        frame = frames.search(text)
        if frame is None:
            continue
        return Trace(kind, _lines_around(text, head.start(), frame.start()), debugger)
    sql = _SQL_ERRORS.search(text) if any(h in text for h in _SQL_HINTS) else None
    if sql is not None:
        return Trace("database error", _lines_around(text, sql.start(), sql.start()))
    return None


def _lines_around(text: str, first: int, second: int) -> str:
    lines = []
    for position in dict.fromkeys((first, second)):
        start = text.rfind("\n", 0, position) + 1
        end = text.find("\n", position)
        lines.append(text[start : end if end != -1 else None].strip()[:200])
    return "\n".join(lines)
