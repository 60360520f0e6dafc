"""The public status badge of a target: `/badge/{badge_key}.svg`, a shields-style SVG with the
grade of its latest finished scan, for a README.

The key is random and is the only thing that makes a badge reachable; it shows the grade and
score and nothing else. GitHub shows README images through its camo proxy, which keeps a copy
unless the image says otherwise: camo's maintainers ask for `Cache-Control: no-cache` plus a
validator (`ETag`), so every view revalidates and a new grade shows at once, while an unchanged
badge costs a 304. A `max-age` would leave the old grade up for that long."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from html import escape

from fastapi import APIRouter, Request
from fastapi.responses import Response

from middlebrick.web.store import Store

router = APIRouter(include_in_schema=False)

LABEL = "middlebrick"
MEDIA_TYPE = "image/svg+xml; charset=utf-8"
CACHE_CONTROL = "no-cache"
COLOURS = {  # the shields.io palette: brightgreen, green, yellow, orange, red
    "A": "#4c1",
    "B": "#97ca00",
    "C": "#dfb317",
    "D": "#fe7d37",
    "F": "#e05d44",
}
GREY = "#9f9f9f"
_KEY = re.compile(r"[A-Za-z0-9_-]{16,64}")
# Verdana 11 px advance widths (what shields measures with), rounded; others count as 7
_WIDTHS = {
    **dict.fromkeys("ijl|.,:;!'", 3.2),
    **dict.fromkeys("frt()[] ", 4.5),
    **dict.fromkeys("ck?sz", 5.9),
    **dict.fromkeys("abdeghnopquvxy0123456789", 6.9),
    **dict.fromkeys("ABCDEFKPRSTXYZ", 7.5),
    **dict.fromkeys("GHNOQU", 8.4),
    **dict.fromkeys("mwMW", 10.7),
    "·": 4.2,
}


@dataclass(frozen=True, slots=True)
class Badge:
    message: str
    colour: str


def badge_for(grade: str | None, score: int | None) -> Badge:
    """What the badge says: the grade and score of the latest finished scan, or "no scan"."""
    if grade is None or grade not in COLOURS:
        return Badge("no scan", GREY)
    return Badge(grade if score is None else f"{grade} · {score}", COLOURS[grade])


def _width(text: str) -> float:
    return sum(_WIDTHS.get(char, 7.0) for char in text)


def render(badge: Badge, label: str = LABEL) -> str:
    """The badge as SVG: two boxes and two texts, every text escaped, no script, no link and
    nothing fetched."""
    label_w, message_w = (round(_width(text)) + 10 for text in (label, badge.message))
    total = label_w + message_w
    title = escape(f"{label}: {badge.message}")
    label_text, message_text = escape(label), escape(badge.message)
    colour = escape(badge.colour)

    def text(content: str, left: int, width: int) -> str:
        x, length = (left + width / 2) * 10, (width - 10) * 10
        return (
            f'<text aria-hidden="true" x="{x:.0f}" y="150" fill="#010101" fill-opacity=".3" '
            f'transform="scale(.1)" textLength="{length:.0f}">{content}</text>'
            f'<text x="{x:.0f}" y="140" transform="scale(.1)" fill="#fff" '
            f'textLength="{length:.0f}">{content}</text>'
        )

    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{total}" height="20" role="img" '
        f'aria-label="{title}"><title>{title}</title>'
        '<linearGradient id="s" x2="0" y2="100%"><stop offset="0" stop-color="#bbb" '
        'stop-opacity=".1"/><stop offset="1" stop-opacity=".1"/></linearGradient>'
        f'<clipPath id="r"><rect width="{total}" height="20" rx="3" fill="#fff"/></clipPath>'
        f'<g clip-path="url(#r)"><rect width="{label_w}" height="20" fill="#555"/>'
        f'<rect x="{label_w}" width="{message_w}" height="20" fill="{colour}"/>'
        f'<rect width="{total}" height="20" fill="url(#s)"/></g>'
        '<g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif" '
        'text-rendering="geometricPrecision" font-size="110">'
        f"{text(label_text, 0, label_w)}{text(message_text, label_w, message_w)}</g></svg>\n"
    )


def _svg(request: Request, svg: str, status: int) -> Response:
    body = svg.encode()
    etag = f'"{hashlib.sha256(body).hexdigest()[:32]}"'
    headers = {"Cache-Control": CACHE_CONTROL, "ETag": etag}
    if etag in request.headers.get("if-none-match", "") and status == 200:
        return Response(status_code=304, headers=headers)
    return Response(body, status, media_type=MEDIA_TYPE, headers=headers)


@router.get("/badge/{badge_key}.svg", response_class=Response)
def badge(request: Request, badge_key: str) -> Response:
    """Public, no authentication: the badge key (shown on the target's page) is what lets one
    see it. An image URL for READMEs rather than part of the token API, so it stays out of the
    API's OpenAPI document (docs/api.md describes it)."""
    store: Store = request.app.state.store
    target = None
    if _KEY.fullmatch(badge_key):
        target = store.target_by_badge(badge_key)
    if target is None:
        return _svg(request, render(Badge("not found", GREY)), 404)
    return _svg(request, render(badge_for(target.latest_grade, target.latest_score)), 200)
