"""Events the engine emits while it scans, for whoever renders progress (CLI, dashboard, MCP)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from middlebrick.http.exchange import url_for_log

log = logging.getLogger("middlebrick.engine")


@dataclass(frozen=True, slots=True)
class Phase:
    name: str  # "recon", "inventory", "baseline", "checks", "analysis", "report"
    detail: str = ""


@dataclass(frozen=True, slots=True)
class CheckFinished:
    check_id: str
    status: str
    done: int
    total: int


@dataclass(frozen=True, slots=True)
class Note:
    """Something the user should know about how the scan went (an upgrade to https, a limit)."""

    message: str


Event = Phase | CheckFinished | Note
OnEvent = Callable[[Event], None]


def ignore(_: Event) -> None:
    """The default listener."""


def logged(on_event: OnEvent) -> OnEvent:
    """`on_event`, logging each event first: phases and notes at info, checks at debug. Events
    carry no secrets (details of findings are never events)."""

    def listener(event: Event) -> None:
        match event:
            case Phase(name, detail):
                log.info("phase %s%s", name, f": {url_for_log(detail)}" if detail else "")
            case Note(message):
                log.info("note: %s", message)
            case CheckFinished(check_id, status, done, total):
                log.debug("check %s %s (%d/%d)", check_id, status, done, total)
        on_event(event)

    return listener
