"""Where an operation is written in the spec file, so that findings (and SARIF annotations in a
pull request) point at its line.

Found by one pass over the text for path keys and one for method keys — the same for JSON and
YAML, linear in the size of the file, and cheap next to parsing. A path written twice (once in a
description, once as a key) is found as the key: the match needs the key syntax (`"/x":`, or
`/x:` at the start of a YAML line).
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable

_PATHS = re.compile(r"""(?:"paths"|'paths')\s*:|^[ \t]*paths[ \t]*:""", re.M)
_PATH_KEY = re.compile(
    r"""(?:"(/[^"\n]*)"|'(/[^'\n]*)')\s*:|^[ \t]*(/[^\s:'"][^\n]*?)[ \t]*:(?:[ \t]|$)""", re.M
)
_METHOD_KEY = re.compile(
    r"""(?:"(get|put|post|delete|options|head|patch|trace)"|'(get|put|post|delete|options|head|patch|trace)')\s*:"""
    r"""|^[ \t]*(get|put|post|delete|options|head|patch|trace)[ \t]*:(?:[ \t]|$)""",
    re.M | re.I,
)


def operation_lines(text: str, operations: Iterable[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """{(path, METHOD): 1-based line} for each (path, METHOD) of `operations` found in `text`."""
    wanted: dict[str, set[str]] = {}
    for path, method in operations:
        wanted.setdefault(path, set()).add(method.lower())
    anchor = _PATHS.search(text)
    start = anchor.end() if anchor else 0
    path_at: dict[str, int] = {}
    for match in _PATH_KEY.finditer(text, start):
        path = match.group(1) or match.group(2) or match.group(3)
        if path in wanted and path not in path_at:
            path_at[path] = match.start()
    methods = [
        (m.start(), (m.group(1) or m.group(2) or m.group(3)).lower())
        for m in _METHOD_KEY.finditer(text, start)
    ]
    positions = [at for at, _ in methods]
    ordered = sorted((at, path) for path, at in path_at.items())
    found: list[tuple[int, tuple[str, str]]] = []
    for i, (at, path) in enumerate(ordered):
        end = ordered[i + 1][0] if i + 1 < len(ordered) else len(text)
        seen: set[str] = set()
        for k in range(bisect.bisect_left(positions, at), bisect.bisect_left(positions, end)):
            found_at, method = methods[k]
            if method in wanted[path] and method not in seen:
                seen.add(method)
                found.append((found_at, (path, method.upper())))
    lines: dict[tuple[str, str], int] = {}
    line, counted = 1, 0
    for found_at, key in sorted(found):  # count newlines once, front to back
        line += text.count("\n", counted, found_at)
        counted = found_at
        lines[key] = line
    return lines
