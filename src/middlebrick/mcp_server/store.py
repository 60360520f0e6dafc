"""The reports an MCP server keeps: the last few, in memory, by a random id."""

from __future__ import annotations

import secrets
from collections import OrderedDict

from middlebrick.model import Report

MAX_REPORTS = 20  # oldest dropped first


class Reports:
    """The last `limit` reports, by id."""

    def __init__(self, limit: int = MAX_REPORTS) -> None:
        self.limit = limit
        self._items: OrderedDict[str, Report] = OrderedDict()

    def add(self, report: Report) -> str:
        report_id = secrets.token_hex(6)
        self._items[report_id] = report
        while len(self._items) > self.limit:
            self._items.popitem(last=False)
        return report_id

    def get(self, report_id: str) -> Report | None:
        return self._items.get(report_id.strip())

    def newest_first(self) -> list[tuple[str, Report]]:
        return list(reversed(self._items.items()))

    def missing(self, report_id: str) -> str:
        kept = ", ".join(i for i, _ in self.newest_first()) or "none yet"
        return (
            f"no report {report_id!r}: the server keeps the last {self.limit} reports "
            f"of this session (kept: {kept})"
        )
