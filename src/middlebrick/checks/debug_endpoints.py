"""Debug and management endpoints left on: Spring Boot Actuator, Apache and nginx status pages,
phpinfo, Prometheus metrics, Go expvar and pprof, and configuration dumps (CWE-215, CWE-200).

As for exposed files (MB-DATA-007), an answer is judged by its content, never by its status: a
401/403, an HTML shell, or a page the soft-404 answer would also pass is not reported. Secret
values seen in an answer travel on the finding, so every report masks them.
"""

from __future__ import annotations

import html
import json
import re
import secrets
import zlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from middlebrick.checks._check import check
from middlebrick.checks._context import ProbeContext, RawFinding
from middlebrick.checks.analyzers.settings import (
    Setting,
    format_secrets,
    public_setting,
    real_secret,
    secret_name,
    secret_settings,
    settings_in,
    text_secrets,
    unique_settings,
)
from middlebrick.http.exchange import Exchange, Response
from middlebrick.model import Category, Confidence, Kind, Severity

MAX_TEXT = 512 * 1024
HEAP_DUMP_HEAD = 1024  # bytes asked for with Range: enough for the magic, even gzip-wrapped
_SHOWN_SECRETS = 6

# Spring Boot's defaults expose these (or they are meant to be public); anything else listed in
# the Actuator index is a management endpoint someone turned on.
_PUBLIC_ACTUATOR = frozenset(
    {"self", "health", "health-path", "health-component", "health-component-instance", "info"}
    | {"prometheus", "metrics", "metrics-requiredMetricName"}  # judged by content, see _metrics
)

_TAG = re.compile(r"<[^>]{0,200}>")
_HTML = re.compile(rb"^\s*(?:<!doctype html|<html|<head|<body)", re.I)
_PROMETHEUS_HELP = re.compile(r"^# HELP [A-Za-z_:][\w:]* ", re.M)
_PROMETHEUS_TYPE = re.compile(
    r"^# TYPE [A-Za-z_:][\w:]* (?:counter|gauge|histogram|summary|untyped|info|stateset|"
    r"gaugehistogram|unknown)\s*$",
    re.M,
)
_STUB_STATUS = re.compile(
    r"^Active connections:\s*\d+\s*\nserver accepts handled requests\s*\n\s*\d+\s+\d+\s+\d+", re.M
)
_APACHE_VERSION = re.compile(r"Server Version:\s*([^<\n]{1,120})")
_PHPINFO_TITLE = re.compile(r"<title>\s*(?:PHP \d[^<]{0,60}|phpinfo\(\))\s*</title>", re.I)
_PHP_VERSION = re.compile(r"PHP Version\s*(?:</[^>]+>\s*<[^>]+>\s*)?(\d[\w.+~-]*)")
_PHP_ROW = re.compile(
    r'<tr><td class="e">\s*([^<]{1,200}?)\s*</td><td class="v">\s*([^<]{0,4000}?)\s*</td></tr>'
)
_MAPPINGS = re.compile(r'\s*\{\s*"contexts"\s*:\s*\{.*?"mappings"\s*:', re.S)
_PHP_VARIABLE = re.compile(r"^\$_(?:SERVER|ENV)\[['\"]?([^'\"\]]+)['\"]?\]$")


@dataclass(frozen=True, slots=True)
class Exposure:
    """What an answer gives away, in the finding's words."""

    what: str
    severity: Severity
    facts: tuple[str, ...] = ()  # lines for the evidence excerpt
    secrets: tuple[tuple[str, str], ...] = ()  # (setting name, value): masked in every report


Judge = Callable[[Response], Exposure | None]


def _exposure(
    what: str, severity: Severity, facts: tuple[str, ...], found: list[Setting]
) -> Exposure:
    """Any live secret makes it critical, whatever the endpoint."""
    return Exposure(
        what, Severity.CRITICAL if found else severity, facts, tuple(unique_settings(found))
    )


# --- judges: one per kind of endpoint ------------------------------------------------------------
def _json(resp: Response) -> Any:
    """The body as a JSON document, or None."""
    if resp.body.lstrip()[:1] not in (b"{", b"["):
        return None
    try:
        return json.loads(resp.body)
    except (ValueError, RecursionError):
        return None


def _text(resp: Response) -> str | None:
    """The body as text, or None for HTML (a status page that is not HTML is not HTML)."""
    return None if _HTML.match(resp.body[:512]) else resp.text(MAX_TEXT)


def actuator_links(resp: Response) -> set[str]:
    """The endpoint names a Spring Boot Actuator index (`{"_links": {"self": …}}`) lists."""
    doc = _json(resp)
    links = doc.get("_links") if isinstance(doc, dict) else None
    if not isinstance(links, dict) or not isinstance(links.get("self"), dict):
        return set()
    return {
        str(name)
        for name, link in links.items()
        if isinstance(link, dict) and "href" in link and not link.get("templated")
    }


def _actuator_index(resp: Response) -> Exposure | None:
    exposed = sorted(actuator_links(resp) - _PUBLIC_ACTUATOR)
    if not exposed:
        return None  # health and info only: Spring Boot's default, meant to be reachable
    return Exposure("Spring Boot Actuator index", Severity.MEDIUM, (f"lists {', '.join(exposed)}",))


def _actuator_env(resp: Response) -> Exposure | None:
    doc = _json(resp)
    if not isinstance(doc, dict):
        return None
    if isinstance(doc.get("propertySources"), list) and "activeProfiles" in doc:  # Boot 2 and 3
        sources = [s.get("name") for s in doc["propertySources"] if isinstance(s, dict)]
        profiles = doc.get("activeProfiles")
    elif "profiles" in doc and ("systemEnvironment" in doc or "systemProperties" in doc):  # 1.x
        sources, profiles = [k for k in doc if k != "profiles"], doc.get("profiles")
    else:
        return None
    if isinstance(profiles, list):
        profiles = ", ".join(str(p) for p in profiles) or "(none)"
    facts = (f"active profiles: {profiles}", f"{len(sources)} property sources")
    return _exposure(
        "Spring Boot Actuator environment", Severity.HIGH, facts, _document_secrets(resp, doc)
    )


def _configprops(resp: Response) -> Exposure | None:
    doc = _json(resp)
    if not isinstance(doc, dict):
        return None
    contexts = doc.get("contexts")
    beans: dict[str, Any] = {}
    for context in contexts.values() if isinstance(contexts, dict) else [{"beans": doc}]:
        if isinstance(context, dict) and isinstance(context.get("beans"), dict):
            beans |= context["beans"]
    prefixes = [
        b["prefix"]
        for b in beans.values()
        if isinstance(b, dict) and isinstance(b.get("prefix"), str) and "properties" in b
    ]
    if not prefixes:
        return None
    facts = (f"{len(prefixes)} configuration beans: {', '.join(prefixes[:8])}",)
    return _exposure(
        "Spring Boot Actuator configuration properties",
        Severity.HIGH,
        facts,
        _document_secrets(resp, doc),
    )


def _mappings(resp: Response) -> Exposure | None:
    # read as text: a large application's route map can pass the body cap and not parse
    head = resp.text(64 * 1024)
    if not _MAPPINGS.match(head) or not re.search(r'"dispatcher(?:Servlets|Handlers)"', head):
        return None
    routes = resp.text(MAX_TEXT).count('"predicate"')
    facts = (f"{routes} request mappings",)
    return Exposure("Spring Boot Actuator route map", Severity.MEDIUM, facts)


def _loggers(resp: Response) -> Exposure | None:
    doc = _json(resp)
    if not isinstance(doc, dict) or not isinstance(doc.get("loggers"), dict):
        return None
    if not isinstance(doc.get("levels"), list) or "DEBUG" not in doc["levels"]:
        return None
    facts = (f"{len(doc['loggers'])} loggers; a POST here changes their level",)
    return Exposure("Spring Boot Actuator loggers", Severity.MEDIUM, facts)


def _heap_dump(resp: Response) -> Exposure | None:
    head = resp.body[:HEAP_DUMP_HEAD]
    if head.startswith(b"\x1f\x8b"):  # Spring Boot 1.x sends it gzipped
        try:
            head = zlib.decompressobj(wbits=31).decompress(head, 64)
        except zlib.error:
            return None
    if not head.startswith(b"JAVA PROFILE 1.0.") and b"portable heap dump" not in head[:64]:
        return None
    magic = head[:18].decode("ascii", "replace").strip("\x00")
    facts = (f"starts with {magic!r}: a JVM memory dump, with every secret the process holds",)
    return Exposure("Spring Boot Actuator heap dump", Severity.CRITICAL, facts)


def _metrics(resp: Response) -> Exposure | None:
    text = _text(resp)
    if text is None or not _PROMETHEUS_HELP.search(text) or not _PROMETHEUS_TYPE.search(text):
        return None
    found = text_secrets(text)
    if not found:
        return None  # counters alone: often deliberate, and not worth a finding
    series = sum(1 for line in text.splitlines() if line and not line.startswith("#"))
    return _exposure("Prometheus metrics", Severity.LOW, (f"{series} series",), found)


def _apache_status(resp: Response) -> Exposure | None:
    text = resp.text(MAX_TEXT)
    if "Apache Server Status for" not in text:
        return None
    version = _APACHE_VERSION.search(text)
    facts = (
        f"Server Version: {version.group(1).strip() if version else '?'}",
        "client addresses and the URLs of requests in progress",
    )
    found = text_secrets(html.unescape(text))
    return _exposure("Apache server-status page", Severity.MEDIUM, facts, found)


def _apache_info(resp: Response) -> Exposure | None:
    text = resp.text(MAX_TEXT)
    if "Apache Server Information" not in text or (
        "Server Settings" not in text and "Module Name:" not in text
    ):
        return None
    facts = ("loaded modules and the server's full configuration",)
    return Exposure("Apache server-info page", Severity.MEDIUM, facts)


def _stub_status(resp: Response) -> Exposure | None:
    text = _text(resp)
    match = _STUB_STATUS.search(text) if text is not None else None
    if match is None:
        return None
    return Exposure("nginx stub_status page", Severity.LOW, (match.group(0).splitlines()[0],))


def _phpinfo(resp: Response) -> Exposure | None:
    text = resp.text(MAX_TEXT)
    if not _PHPINFO_TITLE.search(text) or "PHP Version" not in text:
        return None
    version = _PHP_VERSION.search(text)
    found = []
    for raw_name, raw_value in _PHP_ROW.findall(text):
        name = html.unescape(raw_name)
        variable = _PHP_VARIABLE.match(name)
        value = html.unescape(raw_value).strip()
        if secret_name(variable.group(1) if variable else name) and real_secret(value):
            found.append((name, value))
    facts = (f"PHP Version {version.group(1) if version else '?'}", "environment and $_SERVER")
    return _exposure("phpinfo() page", Severity.HIGH, facts, found)


def _expvar(resp: Response) -> Exposure | None:
    doc = _json(resp)
    if not isinstance(doc, dict) or not isinstance(doc.get("memstats"), dict):
        return None
    cmdline = doc.get("cmdline")
    if not isinstance(cmdline, list):
        return None
    shown: list[str] = []
    for arg in map(str, cmdline):  # whole arguments only: a cut secret would escape masking
        if sum(len(a) for a in shown) + len(arg) > 300:
            break
        shown.append(arg)
    facts = (f"cmdline: {' '.join(shown)}",)
    return _exposure("Go expvar variables", Severity.MEDIUM, facts, _document_secrets(resp, doc))


def _pprof(resp: Response) -> Exposure | None:
    text = resp.text(64 * 1024)
    if "<title>/debug/pprof/</title>" not in text or "goroutine?debug=" not in text:
        return None
    facts = ("goroutine stacks, heap profiles and on-demand CPU profiling",)
    return Exposure("Go pprof profiler", Severity.MEDIUM, facts)


def _config_dump(resp: Response) -> Exposure | None:
    doc = _json(resp)
    if not isinstance(doc, dict | list):
        return None
    found = _document_secrets(resp, doc)
    if not found:
        return None  # public settings (feature flags, publishable keys) are what /config is for
    return _exposure("configuration dump", Severity.HIGH, (), found)


def _document_secrets(resp: Response, doc: object) -> list[Setting]:
    public = [value for name, value in settings_in(doc) if public_setting(name, value)]
    by_format = [
        (name, value)
        for name, value in format_secrets(resp.body, is_json=True)
        if not any(value in p for p in public)
    ]
    return unique_settings(secret_settings(doc) + by_format)


# --- the check -----------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Probe:
    path: str
    judge: Judge


SERVER_PAGES = (
    Probe("/server-status", _apache_status),
    Probe("/server-info", _apache_info),
    Probe("/nginx_status", _stub_status),
    Probe("/stub_status", _stub_status),
    *(Probe(p, _phpinfo) for p in ("/phpinfo.php", "/info.php", "/phpinfo")),
    Probe("/metrics", _metrics),
    Probe("/debug/vars", _expvar),
    Probe("/debug/pprof/", _pprof),
    *(Probe(p, _config_dump) for p in ("/config", "/config.json", "/api/config", "/settings")),
)
_ACTUATOR_JUDGES: dict[str, Judge] = {
    "env": _actuator_env,
    "configprops": _configprops,
    "mappings": _mappings,
    "loggers": _loggers,
}


def _judged(ex: Exchange, judge: Judge, soft: Response | None) -> Exposure | None:
    """The judge's verdict on a 2xx answer that is not what any path gets."""
    resp = ex.response
    if not ex.ok or resp is None or not resp.body:
        return None
    if soft is not None and (resp.body == soft.body or judge(soft) is not None):
        return None
    return judge(resp)


def _finding(ctx: ProbeContext, ex: Exchange, path: str, exposure: Exposure) -> RawFinding:
    values = [value for _, value in exposure.secrets]
    escaped = [html.escape(v) for v in values]  # as an HTML page shows them (PHP: &#039;)
    values += {e for e in escaped + [e.replace("&#x27;", "&#039;") for e in escaped]} - {*values}
    shown = [
        name if value in name else f"{name} = {value}"
        for name, value in exposure.secrets[:_SHOWN_SECRETS]
    ]
    return ctx.finding(
        ex,
        f"{exposure.what} at {path}"
        + (f" with {len(exposure.secrets)} unmasked secret(s)" if exposure.secrets else ""),
        key=path,
        severity=exposure.severity,
        confidence=Confidence.CERTAIN
        if exposure.secrets or exposure.severity is Severity.CRITICAL
        else Confidence.FIRM,
        excerpt="\n".join([f"GET {path}: {exposure.what}", *exposure.facts, *shown]),
        secrets=values,
    )


@check(
    id="MB-DATA-016",
    title="Debug or management endpoint is exposed",
    category=Category.DATA_EXPOSURE,
    severity=Severity.LOW,
    cwe=(215, 200),
    owasp="API8:2023",
    kind=Kind.ACTIVE,
)
async def exposed_debug_endpoint(ctx: ProbeContext) -> AsyncIterator[RawFinding]:
    """An operations endpoint answers anyone: Spring Boot Actuator (`env`, `configprops`,
    `mappings`, `loggers`, `heapdump`), Apache `server-status`/`server-info`, nginx
    `stub_status`, `phpinfo()`, Go `expvar` and `pprof`, or a configuration dump with secrets.

    These pages are for operators: they show the environment and configuration (database URLs,
    keys), the route map, the command line, the requests in progress with their clients' addresses
    and URLs — and a heap dump holds every secret in the process's memory. About 25 GET requests;
    each answer is confirmed by its content (an Actuator `propertySources` document, the hprof
    magic, the `Apache Server Status for` heading, phpinfo's title and tables, Prometheus
    `# HELP`/`# TYPE` lines, expvar's `cmdline` and `memstats`), and nothing is reported for a
    401/403, an HTML shell, or a page the target also serves for a random path.

    Critical whenever an unmasked secret is visible (a password under a secret-like name that is
    not `******`, a placeholder or a `${VAR}` reference; a token or a password in a URL), and for
    a heap dump: it is fetched only when the Actuator index lists it, and only its first KiB
    (`Range`), because every request makes the JVM write a fresh dump. High for an Actuator
    environment or configuration properties and for phpinfo; medium for route maps, loggers,
    Apache status pages, expvar and pprof; low for nginx `stub_status`. Not reported: the
    Actuator index when it lists only `health` and `info`, `/actuator/health` itself,
    Prometheus metrics without secrets, and `/config` documents of public settings.
    """
    origin = ctx.target.origin.url
    soft_ex = await ctx.send(
        "GET", f"{origin}/middlebrick-{secrets.token_hex(6)}", purpose="soft-404"
    )
    soft = soft_ex.response if soft_ex.ok else None

    prefix, links = "", set[str]()
    for base in dict.fromkeys([ctx.target.base_path, ""]):
        ex = await ctx.send("GET", f"{origin}{base}/actuator", purpose="debug endpoint: Actuator")
        if (exposure := _judged(ex, _actuator_index, soft)) is not None:
            yield _finding(ctx, ex, f"{base}/actuator", exposure)
        if ex.ok and ex.response is not None and (soft is None or ex.response.body != soft.body):
            links = actuator_links(ex.response)  # also when it lists health alone
        if links:
            prefix = base
            break

    probes = [Probe(f"{prefix}/actuator/{n}", judge) for n, judge in _ACTUATOR_JUDGES.items()]
    probes.append(Probe(f"{prefix}/env", _actuator_env))  # Spring Boot 1.x
    if "prometheus" in links:
        probes.append(Probe(f"{prefix}/actuator/prometheus", _metrics))
    if ctx.target.base_path not in ("", "/api"):
        probes.append(Probe(f"{ctx.target.base_path}/config", _config_dump))
    for probe in [*probes, *SERVER_PAGES]:
        ex = await ctx.send("GET", origin + probe.path, purpose=f"debug endpoint: {probe.path}")
        if (exposure := _judged(ex, probe.judge, soft)) is not None:
            yield _finding(ctx, ex, probe.path, exposure)

    if "heapdump" in links:
        path = f"{prefix}/actuator/heapdump"
        ex = await ctx.send(
            "GET",
            origin + path,
            headers={"Range": f"bytes=0-{HEAP_DUMP_HEAD - 1}"},
            purpose="debug endpoint: heap dump (first KiB)",
        )
        if (exposure := _judged(ex, _heap_dump, soft)) is not None:
            yield _finding(ctx, ex, path, exposure)
