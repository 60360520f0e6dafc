"""What every page shares: the Jinja2 environment (autoescaping: findings carry text chosen by
the scanned servers), `render`, the error page, and small answers (303, 404)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import datetime
from functools import cache, lru_cache
from typing import Any

from fastapi import HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, PackageLoader, StrictUndefined
from markdown_it import MarkdownIt
from markupsafe import Markup

from middlebrick.model import Report, Severity
from middlebrick.web.auth import PageSession, store_of
from middlebrick.web.jobs import JobRunner
from middlebrick.web.store import ScanRecord

SEVERITIES = sorted(Severity, key=lambda s: -s.rank)
KEPT_REPORTS = 8


def render(
    request: Request,
    template: str,
    session: PageSession | None,
    *,
    status: int = 200,
    **context: Any,
) -> HTMLResponse:
    defaults = {
        "user": session.user if session else None,
        "csrf": session.csrf if session else None,
        "nav": None,
    }
    page = _env().get_template(template).render({**defaults, **context})
    return HTMLResponse(page, status_code=status)


def error_page(request: Request, status: int, title: str, message: str) -> HTMLResponse:
    return render(request, "error.html.j2", None, status=status, title=title, message=message)


@cache
def _env() -> Environment:
    env = Environment(
        loader=PackageLoader("middlebrick.web", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    env.filters.update(markdown=_markdown, label=label, when=when, duration=_duration)
    env.globals["severities"] = [s.value for s in SEVERITIES]
    return env


_MARKDOWN = MarkdownIt("commonmark", {"html": False}).disable(
    ["html_inline", "html_block", "link", "image", "autolink"]
)


@lru_cache(maxsize=1024)
def _markdown(text: str) -> Markup:
    """A fix as HTML: raw HTML stays text and links and images stay text, so nothing in it can
    run or fetch. Cached: findings of one check share their fix."""
    return Markup(_MARKDOWN.render(text))  # noqa: S704 - markdown-it escapes; html is off


def label(value: object) -> str:
    return str(value).replace("_", " ")


def when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S") if moment else ""


def _duration(scan: ScanRecord) -> str:
    if scan.started_at is None or scan.finished_at is None:
        return ""
    seconds = (scan.finished_at - scan.started_at).total_seconds()
    return f"{seconds:.1f} s" if seconds < 120 else f"{seconds // 60:.0f} min {seconds % 60:.0f} s"


def runner_of(request: Request) -> JobRunner:
    runner: JobRunner = request.app.state.runner
    return runner


def see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def not_found(what: str) -> HTTPException:
    return HTTPException(404, f"there is no such {what}, or it is not yours")


class _Reports:
    """The last few reports read, parsed: a report never changes once written, and each change
    of the findings filter asks for the same one again (parsing a 200-finding report costs
    more than rendering it). Keyed by user and scan, so ownership is checked as the store does."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._kept: OrderedDict[tuple[int, str], Report] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, request: Request, user_id: int, scan_id: str) -> Report | None:
        key = (user_id, scan_id)  # scan ids are random: no two databases share one
        with self._lock:
            if (kept := self._kept.get(key)) is not None:
                self._kept.move_to_end(key)
                return kept
        report = store_of(request).report(user_id, scan_id)
        if report is not None:
            with self._lock:
                self._kept[key] = report
                while len(self._kept) > self.size:
                    self._kept.popitem(last=False)
        return report


report_of = _Reports(KEPT_REPORTS).get
