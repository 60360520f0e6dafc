"""The HTML report: a real scan of a target that answers with markup renders inert (parsed here,
and loaded in headless Chromium over the DevTools protocol), fetches nothing, and shows the grade,
the category chart and one article per finding."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import itertools
import json
import re
import shutil
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from importlib.resources import files
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from pydantic import SecretStr

from middlebrick.demo.apps import DEMO_PASSWORD, DEMO_USER, vulnerable_app
from middlebrick.demo.server import serve
from middlebrick.model import BaselineState, Report, Severity, Suppression
from middlebrick.report import WRITERS
from report.test_writers import sample_report

from checks.conftest import scan_now
from targets.hostile_html import (
    ATTRIBUTE,
    BREAKOUT,
    JS_URL,
    PAYLOADS,
    SCRIPT,
    TEMPLATE,
    hostile_api,
)

SCRIPT_SOURCE = (files("middlebrick.report") / "templates" / "report.js").read_text("utf-8")
CREDENTIALS = f"{DEMO_USER}:{DEMO_PASSWORD}"
CHROMIUM = next(
    filter(None, map(shutil.which, ("chromium", "chromium-browser", "google-chrome"))), None
)


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    classes: set[str]
    text: str = ""


class Page(HTMLParser):
    """Every element of a document, with its attributes and (for scripts) its text."""

    def __init__(self, document: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[Element] = []
        self.text: list[str] = []
        self._open_script: Element | None = None
        self.feed(document)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        element = Element(tag, values, set(values.get("class", "").split()))
        self.elements.append(element)
        if tag == "script":
            self._open_script = element

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._open_script = None

    def handle_data(self, data: str) -> None:
        if self._open_script is not None:
            self._open_script.text += data
        else:
            self.text.append(data)

    def find(self, tag: str, cls: str | None = None) -> list[Element]:
        return [e for e in self.elements if e.tag == tag and (cls is None or cls in e.classes)]

    def by_id(self, id: str) -> Element:
        [element] = [e for e in self.elements if e.attrs.get("id") == id]
        return element


@pytest.fixture(scope="module")
def hostile() -> tuple[Report, str]:
    with serve(hostile_api()) as served:
        report = scan_now(served.url)
    return report, WRITERS["html"].render(report)


@pytest.fixture(scope="module")
def demo() -> tuple[Report, str]:
    with serve(vulnerable_app()) as api:
        report = scan_now(api.url, spec=f"{api.url}/openapi.json", auth=SecretStr(CREDENTIALS))
    return report, WRITERS["html"].render(report)


# (a) what the target sent is text, never markup ---------------------------------------------------


def test_hostile_scan_carries_the_payloads_into_the_report(hostile: tuple[Report, str]) -> None:
    report, _ = hostile
    seen = " ".join(f.detail + " ".join(e.excerpt for e in f.evidence) for f in report.findings)
    for payload in PAYLOADS:
        assert payload in seen, payload  # in findings, not only in exchanges: else proves less
    assert SCRIPT in (report.target.server or "")


def test_html_report_escapes_everything_the_target_sent(hostile: tuple[Report, str]) -> None:
    _, document = hostile
    page = Page(document)
    [script] = page.find("script")
    assert script.text == SCRIPT_SOURCE
    assert script.attrs == {}
    assert not page.find("img")
    assert not page.find("iframe")
    assert not page.find("object")
    for element in page.elements:
        assert not [name for name in element.attrs if name.startswith("on")], element
        for name in ("href", "src", "action", "formaction", "xlink:href"):
            assert not element.attrs.get(name, "").strip().lower().startswith("javascript:")
    for payload in (SCRIPT, ATTRIBUTE, BREAKOUT):
        assert payload not in document
    text = "".join(page.text)
    for payload in PAYLOADS:  # shown to the reader as what it is
        assert payload in text, payload
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in document
    assert TEMPLATE in document
    assert JS_URL in document


def test_html_fix_markdown_renders_code_and_never_raw_html(demo: tuple[Report, str]) -> None:
    report, _ = demo
    finding = report.findings[0].model_copy(
        update={
            "remediation": "Use `<int:id>`.\n\n<script>alert(1)</script> [x](javascript:alert(1))"
            "\n\n```python\nprint('<b>')\n```"
        }
    )
    document = WRITERS["html"].render(report.model_copy(update={"findings": [finding]}))
    [fix] = re.findall(r'<div class="fix">(.*?)</div>', document, re.S)
    assert "<code>&lt;int:id&gt;</code>" in fix
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in fix
    assert "[x](javascript:alert(1))" in fix
    assert "<a" not in fix
    assert "<pre><code class=\"language-python\">print('&lt;b&gt;')" in fix


# (c) nothing is fetched ---------------------------------------------------------------------------


def test_html_report_loads_nothing_from_anywhere(hostile: tuple[Report, str]) -> None:
    report, document = hostile
    page = Page(document)
    for element in page.elements:
        for name in ("src", "srcset", "action", "formaction", "poster", "data", "xlink:href"):
            assert name not in element.attrs, element
        assert element.attrs.get("href", "#").startswith("#"), element
        assert element.tag not in ("link", "img", "iframe", "base", "object", "embed")
    assert not re.search(r"url\(|@import|@font-face", document)
    assert report.target.url in "".join(page.text)  # the target's URL, as text only


def test_html_report_sets_a_csp_that_admits_only_its_script(hostile: tuple[Report, str]) -> None:
    _, document = hostile
    [meta] = [
        e
        for e in Page(document).find("meta")
        if e.attrs.get("http-equiv") == "Content-Security-Policy"
    ]
    digest = base64.b64encode(hashlib.sha256(SCRIPT_SOURCE.encode()).digest()).decode()
    directives = dict(d.strip().split(" ", 1) for d in meta.attrs["content"].split(";"))
    assert directives["default-src"] == "'none'"
    assert directives["script-src"] == f"'sha256-{digest}'"
    assert directives["style-src"] == "'unsafe-inline'"
    assert document.index("Content-Security-Policy") < document.index("<style>")


# (d) structure ------------------------------------------------------------------------------------


def test_html_report_shows_grade_chart_counts_and_one_article_per_finding(
    demo: tuple[Report, str],
) -> None:
    report, document = demo
    page = Page(document)
    assert f"<b>{report.score.grade}</b><span>{report.score.score}/100</span>" in document
    assert "grade-" + report.score.grade in page.by_id("grade").classes
    assert len(page.find("rect", "bar")) == len(report.score.categories) == 6
    articles = page.find("article", "finding")
    assert [(a.attrs["data-severity"], a.attrs["data-category"]) for a in articles] == [
        (f.severity, f.category) for f in report.findings
    ]
    assert not [a for a in articles if "hidden" in a.attrs]  # without the script: all shown
    assert "hidden" in page.by_id("filters").attrs
    assert len(page.find("pre", "evidence")) == sum(len(f.evidence) for f in report.findings)
    assert len(page.find("pre", "reproduce")) == sum(bool(f.reproduce) for f in report.findings)
    critical = sum(f.severity is Severity.CRITICAL for f in report.findings)
    assert f'<li class="sev-critical"><b>{critical}</b>critical</li>' in document
    checks = re.search(r'<section id="checks">.*?</section>', document, re.S)
    assert checks is not None
    assert checks.group().count("<tr>") == len(report.checks) + 1
    for note in report.notes:
        assert note in document


def test_html_report_shows_baseline_badges_fixed_and_suppressed() -> None:
    report = sample_report()
    first, second = report.findings
    report = report.model_copy(
        update={
            "findings": [
                first.model_copy(update={"baseline_state": BaselineState.NEW}),
                second.model_copy(update={"baseline_state": BaselineState.UNCHANGED}),
            ],
            "fixed": [second.model_copy(update={"check_id": "MB-DATA-004", "title": "Gone"})],
            "suppressed": [
                first.model_copy(update={"suppression": Suppression(reason="accepted <b>risk</b>")})
            ],
        }
    )
    document = WRITERS["html"].render(report)
    page = Page(document)
    assert '<span class="badge new">new</span>' in document
    assert '<span class="badge unchanged">unchanged</span>' in document
    assert {e.attrs["value"] for e in page.elements if e.attrs.get("name") == "baseline"} == {
        "new",
        "unchanged",
    }
    assert '<section id="fixed">' in document
    assert "MB-DATA-004" in document
    assert '<section id="suppressed">' in document
    assert "accepted &lt;b&gt;risk&lt;/b&gt;" in document


# (b) in a real browser ----------------------------------------------------------------------------


@dataclass
class Observed:
    pages: set[str] = field(default_factory=set)  # the report files loaded
    requests: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    loaded: dict[str, Any] = field(default_factory=dict)
    filtered: dict[str, Any] = field(default_factory=dict)
    printed: dict[str, Any] = field(default_factory=dict)
    without_script: dict[str, Any] = field(default_factory=dict)
    without_csp: dict[str, Any] = field(default_factory=dict)


class DevTools:
    """A minimal Chrome DevTools Protocol client for one page (aiohttp is a dependency)."""

    def __init__(self, socket: aiohttp.ClientWebSocketResponse) -> None:
        self.socket = socket
        self.events: list[dict[str, Any]] = []
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for message in self.socket:
            data = json.loads(message.data)
            if "id" in data:
                self._pending.pop(data["id"]).set_result(data)
            else:
                self.events.append(data)

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        id = next(self._ids)
        self._pending[id] = asyncio.get_running_loop().create_future()
        await self.socket.send_json({"id": id, "method": method, "params": params})
        reply = await asyncio.wait_for(self._pending[id], 30)
        assert "error" not in reply, reply
        return dict(reply["result"])

    async def evaluate(self, expression: str) -> Any:
        result = await self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        assert "exceptionDetails" not in result, result
        return result["result"].get("value")

    async def load(self, url: str, *, reload: bool = False) -> None:
        seen = len(self.events)
        if reload:
            await self.call("Page.reload")
        else:
            await self.call("Page.navigate", url=url)
        deadline = time.monotonic() + 20
        while not any(e["method"] == "Page.loadEventFired" for e in self.events[seen:]):
            assert time.monotonic() < deadline, "the page did not load"
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)  # let anything the page might start show up as an event

    async def close(self) -> None:
        await self.socket.close()
        with contextlib.suppress(asyncio.CancelledError):
            self._reader.cancel()
            await self._reader


@contextlib.contextmanager
def chromium(profile: Path) -> Iterator[int]:
    """Headless Chromium with a DevTools port; yields the port."""
    assert CHROMIUM is not None
    command = [
        CHROMIUM,
        "--headless=new",
        "--no-sandbox",  # CI runs as root
        "--disable-gpu",
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-extensions",
        "--disable-background-networking",
        "--remote-debugging-port=0",
        f"--user-data-dir={profile}",
        "about:blank",
    ]
    active = profile / "DevToolsActivePort"
    active.unlink(missing_ok=True)  # a stale one names a port nobody listens on
    with subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL
    ) as process:
        try:
            deadline = time.monotonic() + 30
            while not active.exists() or not active.read_text().strip():
                assert process.poll() is None, "chromium exited"
                assert time.monotonic() < deadline, "chromium opened no DevTools port"
                time.sleep(0.05)
            yield int(active.read_text().split()[0])
        finally:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@contextlib.asynccontextmanager
async def devtools(port: int) -> AsyncIterator[DevTools]:
    async with aiohttp.ClientSession() as http:
        async with http.get(f"http://127.0.0.1:{port}/json/list") as answer:
            targets = await answer.json()
        [page] = [t for t in targets if t["type"] == "page"]
        socket = await http.ws_connect(page["webSocketDebuggerUrl"], max_msg_size=0)
        tools = DevTools(socket)
        try:
            yield tools
        finally:
            await tools.close()


WATCH = """
window.__violations = [];
window.__alerts = [];
for (const name of ["alert", "confirm", "prompt"]) {
  window[name] = (message) => window.__alerts.push(`${name}(${message})`);
}
document.addEventListener("securitypolicyviolation",
  (e) => window.__violations.push(`${e.violatedDirective} ${e.blockedURI}`));
"""
STATE = """(() => {
  const articles = [...document.querySelectorAll("article.finding")];
  return {
    violations: window.__violations,
    alerts: window.__alerts,
    injected: document.querySelectorAll("img, iframe, [onerror], [onload]").length,
    panel: !document.getElementById("filters").hidden,
    panelDisplay: getComputedStyle(document.getElementById("filters")).display,
    shown: document.getElementById("shown").textContent,
    hidden: articles.filter((a) => a.hidden).map((a) => a.dataset.severity),
    displayed: articles.filter((a) => a.checkVisibility()).length,
    evidence: [...document.querySelectorAll("pre.evidence")].filter((p) => p.checkVisibility())
      .length,
    scripts: document.scripts.length,
  };
})()"""


async def drive(url: str, without_csp: str, port: int) -> Observed:
    seen = Observed(pages={url, without_csp})
    async with devtools(port) as page:
        for domain in ("Page", "Network", "Runtime", "Log"):
            await page.call(f"{domain}.enable")
        await page.call("Page.addScriptToEvaluateOnNewDocument", source=WATCH)
        await page.load(url)
        seen.loaded = await page.evaluate(STATE)
        seen.filtered = await page.evaluate(
            'document.querySelector("#filters input[name=severity][value=low]").click();' + STATE
        )
        await page.call("Emulation.setEmulatedMedia", media="print")
        seen.printed = await page.evaluate(STATE)
        await page.call("Emulation.setEmulatedMedia", media="")
        await page.call("Emulation.setScriptExecutionDisabled", value=True)
        await page.load(url, reload=True)
        seen.without_script = await page.evaluate(STATE)
        await page.call("Emulation.setScriptExecutionDisabled", value=False)
        await page.load(without_csp)  # escaping alone must keep the payloads inert
        seen.without_csp = await page.evaluate(STATE)
        for event in page.events:
            params = event.get("params", {})
            if event["method"] == "Network.requestWillBeSent":
                seen.requests.append(params["request"]["url"])
            elif event["method"] == "Page.javascriptDialogOpening":
                seen.dialogs.append(params["message"])
            elif event["method"] == "Log.entryAdded" and params["entry"]["level"] == "error":
                seen.errors.append(params["entry"]["text"])
            elif event["method"] == "Runtime.exceptionThrown":
                seen.errors.append(str(params["exceptionDetails"]))
    return seen


@pytest.fixture(scope="module")
def browser(hostile: tuple[Report, str], tmp_path_factory: pytest.TempPathFactory) -> Observed:
    if CHROMIUM is None:
        pytest.skip("no chromium binary on PATH (Debian: apt-get install chromium)")
    folder = tmp_path_factory.mktemp("html")
    report_file, bare = folder / "report.html", folder / "without-csp.html"
    report_file.write_text(hostile[1], encoding="utf-8")
    without_csp = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", hostile[1])
    assert "Content-Security-Policy" not in without_csp
    bare.write_text(without_csp, encoding="utf-8")
    with chromium(folder / "profile") as port:
        return asyncio.run(drive(report_file.as_uri(), bare.as_uri(), port))


def test_html_report_in_chromium_runs_only_its_own_script(
    browser: Observed, hostile: tuple[Report, str]
) -> None:
    assert browser.dialogs == []
    assert browser.loaded["violations"] == []
    assert browser.errors == []
    assert browser.loaded["scripts"] == 1
    assert browser.loaded["alerts"] == []
    assert browser.loaded["panel"]  # the CSP hash admitted our script: it showed the filters
    count = len(hostile[0].findings)
    assert browser.loaded["shown"] == f"{count} of {count} findings shown"


def test_html_report_in_chromium_requests_only_itself(browser: Observed) -> None:
    assert {url.split("#")[0] for url in browser.requests} == browser.pages


def test_html_report_in_chromium_filters_by_severity(
    browser: Observed, hostile: tuple[Report, str]
) -> None:
    report, _ = hostile
    low = sum(f.severity is Severity.LOW for f in report.findings)
    assert low
    assert browser.filtered["hidden"] == ["low"] * low
    assert browser.filtered["displayed"] == len(report.findings) - low
    shown, total = len(report.findings) - low, len(report.findings)
    assert browser.filtered["shown"] == f"{shown} of {total} findings shown"


def test_html_report_in_chromium_prints_everything_expanded(
    browser: Observed, hostile: tuple[Report, str]
) -> None:
    report, _ = hostile
    assert browser.printed["panelDisplay"] == "none"
    assert browser.printed["displayed"] == len(report.findings)  # filtered-out ones too
    assert browser.printed["evidence"] == sum(len(f.evidence) for f in report.findings)


def test_html_report_in_chromium_shows_everything_without_script(
    browser: Observed, hostile: tuple[Report, str]
) -> None:
    assert not browser.without_script["panel"]
    assert browser.without_script["hidden"] == []
    assert browser.without_script["displayed"] == len(hostile[0].findings)


def test_html_report_in_chromium_is_inert_even_without_its_csp(browser: Observed) -> None:
    assert browser.without_csp["panel"]  # our script ran: the page was live
    assert browser.without_csp["alerts"] == []
    assert browser.without_csp["scripts"] == 1
    assert browser.without_csp["injected"] == 0


def test_html_report_without_findings_says_so() -> None:
    report = sample_report().model_copy(update={"findings": [], "exchanges": []})
    page = Page(WRITERS["html"].render(report))
    assert not page.find("article")
    assert "No findings." in page.text
    assert len(page.find("script")) == 1
