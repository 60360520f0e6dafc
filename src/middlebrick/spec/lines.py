"""Where an operation is written in the spec file, so that findings (and SARIF annotations in a
pull request) point at its line.

Found by scanning the text for the path key and then the method key below it — the same for JSON
and YAML, and cheap next to parsing. A path written twice (once in a description, once as a key)
is found as the key: the match needs the key syntax (`"/x":` or `/x:` at the start of a line).
"""

from __future__ import annotations

import re
from collections.abc import Iterable


def _key(name: str) -> re.Pattern[str]:
    quoted = re.escape(name)
    return re.compile(
        rf"""(?:"{quoted}"|'{quoted}')\s*:|^[ \t]*(?:- )?{quoted}[ \t]*:(?:[ \t]|$)""", re.M
    )


def operation_lines(text: str, operations: Iterable[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """{(path, METHOD): 1-based line} for each (path, METHOD) of `operations` found in `text`."""
    methods: dict[str, set[str]] = {}
    for path, method in operations:
        methods.setdefault(path, set()).add(method.lower())
    paths = methods
    lines: dict[tuple[str, str], int] = {}
    anchor = _key("paths").search(text)
    start = anchor.end() if anchor else 0
    ordered = sorted(
        (m.start(), p) for p in paths if (m := _key(p).search(text, start)) is not None
    )
    for i, (at, path) in enumerate(ordered):
        end = ordered[i + 1][0] if i + 1 < len(ordered) else len(text)
        for method in sorted(methods[path]):
            found = _key(method).search(text, at, end)
            if found is not None:
                lines[(path, method.upper())] = text.count("\n", 0, found.start()) + 1
    return lines
