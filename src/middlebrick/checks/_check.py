"""The `@check` decorator: a check's metadata, declared once beside the function that finds it."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from middlebrick.model import Category, Kind, Severity

if TYPE_CHECKING:
    from middlebrick.checks._context import Context, ProbeContext, RawFinding

PassiveFn = Callable[["Context"], Iterator["RawFinding"]]
ActiveFn = Callable[["ProbeContext"], AsyncIterator["RawFinding"]]

_ID = re.compile(r"^MB-(AUTH|AUTHZ|ENC|DATA|INV|CONF)-\d{3}$")
_CODE_OF = {
    Category.AUTHENTICATION: "AUTH",
    Category.AUTHORIZATION: "AUTHZ",
    Category.ENCRYPTION: "ENC",
    Category.DATA_EXPOSURE: "DATA",
    Category.INVENTORY: "INV",
    Category.CONFIGURATION: "CONF",
}


@dataclass(frozen=True, slots=True)
class Check:
    """A registered check: stable id, what it finds, and the function that finds it."""

    id: str
    title: str
    category: Category
    severity: Severity
    cwe: tuple[int, ...]
    owasp: str
    kind: Kind
    fn: Callable[..., Any]

    @property
    def name(self) -> str:
        return self.fn.__name__

    @property
    def doc(self) -> str:
        return (self.fn.__doc__ or "").strip()

    @property
    def summary(self) -> str:
        """The first paragraph of the docstring."""
        return self.doc.split("\n\n")[0].replace("\n", " ").strip()


def check(
    *,
    id: str,
    title: str,
    category: Category,
    severity: Severity,
    cwe: tuple[int, ...],
    owasp: str,
    kind: Kind,
) -> Callable[[Callable[..., Any]], Check]:
    """Declare a check. The id is `MB-<CODE>-NNN`, stable and never reused."""
    match = _ID.match(id)
    if not match or match.group(1) != _CODE_OF[category]:
        raise ValueError(f"check id {id!r} does not fit category {category}")
    if not re.fullmatch(r"API([1-9]|10):2023", owasp):
        raise ValueError(f"{id}: owasp must be an API Top 10 2023 id, got {owasp!r}")

    def register(fn: Callable[..., Any]) -> Check:
        if not (fn.__doc__ or "").strip():
            raise ValueError(f"{id}: the docstring is the check's documentation; write one")
        return Check(id, title, category, severity, cwe, owasp, kind, fn)

    return register
