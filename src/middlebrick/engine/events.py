"""Events the engine emits while it scans, for whoever renders progress (CLI, dashboard, MCP)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


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
