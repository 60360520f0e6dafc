"""The Markdown report, rendered the way GitHub renders it (CommonMark + tables, raw HTML allowed,
here by markdown-it): a real scan of the demo API reads right, table cells survive `|`, markup
from the target stays text, and a huge report stays under the step-summary limit."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from hypothesis import given
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from pydantic import SecretStr

from middlebrick.demo.apps import DEMO_PASSWORD, DEMO_USER, vulnerable_app
from middlebrick.demo.server import serve
from middlebrick.model import BaselineState, Evidence, Report, Severity, Suppression
from middlebrick.report import WRITERS
from middlebrick.report.markdown import (
    MAX_TABLE_ROWS,
    PR_COMMENT_BYTES,
    STEP_SUMMARY_BYTES,
    MarkdownWriter,
    code,
    fenced,
    text,
)
from report.test_writers import sample_report

from checks.conftest import scan_now
from targets.hostile_html import PAYLOADS, SCRIPT, hostile_api

GITHUB = MarkdownIt("gfm-like", {"html": True, "linkify": False})
WORD_JOINER = "\u2060"


class Rendered(HTMLParser):
    """The elements and text of the HTML GitHub would make of a Markdown document."""

    def __init__(self, markdown: str) -> None:
        super().__init__(convert_charrefs=True)
        self.html = GITHUB.render(markdown)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.tables: list[list[list[str]]] = []  # rows of cells, header row first
        self.text = ""
        self._cell: list[str] | None = None
        self.feed(self.html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.tables[-1][-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data: str) -> None:
        self.text += data
        if self._cell is not None:
            self._cell.append(data)


@pytest.fixture(scope="module")
def demo() -> Report:
    with serve(vulnerable_app()) as api:
        return scan_now(
            api.url,
            spec=f"{api.url}/openapi.json",
            auth=SecretStr(f"{DEMO_USER}:{DEMO_PASSWORD}"),
        )


def test_markdown_report_summarises_a_real_scan(demo: Report) -> None:
    document = WRITERS["markdown"].render(demo)
    assert WRITERS["markdown"].suffix == ".md"
    grade = demo.score
    assert document.startswith(
        f"## middlebrick: grade {grade.grade} ({grade.score}/100) for `{demo.target.url}`\n"
    )
    critical = sum(f.severity is Severity.CRITICAL for f in demo.findings)
    assert f"{len(demo.findings)} findings: 🔴 {critical} critical · 🟠" in document
    categories, findings = Rendered(document).tables
    assert categories[0] == ["category", "score", "grade", "findings"]
    assert [(r[0], r[2]) for r in categories[1:]] == [
        (c.category.replace("_", " "), c.grade) for c in grade.categories
    ]
    assert findings[0] == ["severity", "check", "title", "endpoints"]  # no baseline given
    assert [r[1] for r in findings[1:]] == [f.check_id for f in demo.findings]
    assert [r[3] for r in findings[1:]] == [str(len(f.endpoints)) for f in demo.findings]
    assert document.count("<details>") == document.count("</details>") == len(demo.findings)
    summaries = re.findall(r"<summary>(.*)</summary>", document)
    assert [s.split(" · ")[1] for s in summaries] == [f.check_id for f in demo.findings]
    assert document.count("```sh\ncurl ") == sum(bool(f.reproduce) for f in demo.findings)
    assert f"**Fix** ({demo.findings[0].framework})" in document
    assert f"<sub>middlebrick {demo.tool_version} · {len(demo.checks)} checks" in document
    assert f"in {demo.duration_s:.1f} s" in document
    assert DEMO_PASSWORD not in document


def test_markdown_table_survives_a_pipe(demo: Report) -> None:
    first = demo.findings[0].model_copy(
        update={"title": "pipes | in | title", "detail": "a | b", "endpoints": ["GET /x|y"]}
    )
    report = demo.model_copy(update={"findings": [first, *demo.findings[1:]]})
    page = Rendered(WRITERS["markdown"].render(report))
    findings = page.tables[1]
    assert {len(row) for row in findings} == {4}
    assert findings[1][2] == "pipes | in | title"
    assert "<p>a | b</p>" in page.html
    assert "<code>GET /x|y</code>" in page.html


def test_markdown_keeps_hostile_markup_inert() -> None:
    with serve(hostile_api()) as served:
        report = scan_now(served.url)
    page = Rendered(WRITERS["markdown"].render(report))
    assert not [t for t in page.tags if t[0] in ("script", "img", "a", "iframe")]
    assert not [t for t in page.tags if any(name.startswith("on") for name in t[1])]
    for payload in PAYLOADS:  # each reaches the reader, as text
        assert payload in page.text, payload
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.html


def test_markdown_escapes_mentions_backticks_and_block_starts(demo: Report) -> None:
    hostile = "# @octocat ``code`` *b* [x](javascript:alert(1)) <b>"
    first = demo.findings[0].model_copy(
        update={
            "detail": hostile,
            "endpoints": ["`GET` /a``b"],
            "evidence": [Evidence(exchange_id=None, excerpt=f"```\n</details>\n{SCRIPT}\n````")],
        }
    )
    page = Rendered(WRITERS["markdown"].render(demo.model_copy(update={"findings": [first]})))
    assert f"<p>{hostile.replace('@', '@' + WORD_JOINER)}</p>".replace("<b>", "&lt;b&gt;") in (
        page.html
    )
    assert "<code>`GET` /a``b</code>" in page.html
    assert "```\n&lt;/details&gt;\n&lt;script&gt;alert(1)&lt;/script&gt;\n````" in page.html
    assert page.html.count("<details>") == 1
    assert not [t for t in page.tags if t[0] == "h1"]


def test_markdown_caps_a_huge_report_and_says_so(demo: Report) -> None:
    big = demo.findings[0].model_copy(
        update={
            "endpoints": [f"GET {demo.target.url}/items/{i}" for i in range(40)],
            "evidence": [Evidence(exchange_id=1, excerpt="x" * 5_000)] * 3,
        }
    )
    findings = [big.model_copy(update={"check_id": f"MB-TEST-{i:03}"}) for i in range(500)]
    report = demo.model_copy(update={"findings": findings, "fixed": findings[:80]})
    document = WRITERS["markdown"].render(report)
    assert STEP_SUMMARY_BYTES - 20_000 < len(document.encode()) <= STEP_SUMMARY_BYTES
    assert f"The table shows the {MAX_TABLE_ROWS} most severe of 500 findings" in document
    detailed = document.count("<details>")
    assert 0 < detailed < 500
    assert f"{500 - detailed} more findings not detailed here" in document
    assert "… and 30 more" in document
    assert "(3,500 more characters not shown)" in document
    assert "… and 30 more fixed findings" in document
    assert document.rstrip().endswith("UTC</sub>")  # the footer survives the cap

    comment = MarkdownWriter(max_bytes=PR_COMMENT_BYTES).render(report)
    assert len(comment) <= PR_COMMENT_BYTES
    assert "more findings not detailed here" in comment


def test_markdown_shows_baseline_fixed_and_suppressed() -> None:
    report = sample_report()
    first, second = report.findings
    report = report.model_copy(
        update={
            "findings": [
                first.model_copy(update={"baseline_state": BaselineState.NEW}),
                second.model_copy(update={"baseline_state": BaselineState.UNCHANGED}),
            ],
            "fixed": [second.model_copy(update={"check_id": "MB-DATA-004"})],
            "suppressed": [
                first.model_copy(update={"suppression": Suppression(reason="risk | accepted")})
            ],
        }
    )
    page = Rendered(WRITERS["markdown"].render(report))
    _, findings, suppressed = page.tables
    assert findings[1:] == [
        ["🔴 critical", "MB-ENC-001", "API is served over plain HTTP", "2", "new"],
        [
            "🟡 medium",
            "MB-DATA-001",
            "Authenticated response can be stored by caches",
            "1",
            "unchanged",
        ],
    ]
    assert "Fixed since the baseline" in page.text
    assert "MB-DATA-004" in page.text
    assert suppressed[1] == [
        "🔴 critical",
        "MB-ENC-001",
        "API is served over plain HTTP",
        "risk | accepted",
        "never",
    ]
    assert "⚠️ MB-DATA-002 incomplete: budget" in page.text


_VALUES = st.text(
    st.characters(min_codepoint=32, max_codepoint=0x2FF, exclude_categories=("Cs", "Cc")),
    min_size=1,
).filter(str.strip)


@given(_VALUES)
def test_markdown_text_renders_as_exactly_the_value(value: str) -> None:
    page = Rendered(text(value))
    assert [tag for tag, _ in page.tags] == ["p"]
    assert page.text.strip().replace(WORD_JOINER, "") == " ".join(value.split())


@given(_VALUES)
def test_markdown_code_span_and_fence_hold_any_value(value: str) -> None:
    assert Rendered(code(value)).html == f"<p><code>{_html(' '.join(value.split()))}</code></p>\n"
    assert Rendered(fenced(value)).html.startswith(f"<pre><code>{_html(value.rstrip())}")


def _html(value: str) -> str:
    return (
        value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


def test_markdown_report_without_findings_says_so() -> None:
    report = sample_report().model_copy(update={"findings": []})
    document = WRITERS["markdown"].render(report)
    assert "No findings. ✅" in document
    assert "<details>" not in document
    assert len(Rendered(document).tables) == 1
