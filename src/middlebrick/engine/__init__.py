"""The scan pipeline, top to bottom: recon, inventory, baseline, active checks, passive analysis,
report. Every interface calls `scan(config)`; nothing here knows who asked."""

from __future__ import annotations

import asyncio
import dataclasses
import shlex
import time
from collections import Counter
from datetime import UTC, date, datetime

from middlebrick import __version__, checks, score, triage
from middlebrick.checks import ALL, BY_ID
from middlebrick.checks._check import Check
from middlebrick.checks._context import Origin, Sender, Target
from middlebrick.config import ScanConfig
from middlebrick.engine import context, discovery, findings, recon
from middlebrick.engine.events import Note, OnEvent, Phase, ignore, logged
from middlebrick.engine.runner import OUT_OF_BUDGET, Progress, run_active, run_passive, unanswered
from middlebrick.engine.scope import Scope
from middlebrick.errors import ConfigError
from middlebrick.http.client import (
    RETAINED_BODIES,
    RETAINED_HEAD,
    USER_AGENT,
    BudgetExhausted,
    HttpClient,
    fetch_document,
    tls_context,
)
from middlebrick.http.exchange import Exchange, Masker, to_record
from middlebrick.model import CheckRun, CheckStatus, Coverage, Kind, Report, TargetInfo
from middlebrick.remediation import scheme_of
from middlebrick.spec import loader
from middlebrick.spec.operations import Operation, api_spec

__all__ = ["audit", "scan", "select_checks"]

ANALYSIS_GRACE = 1.0  # seconds passive analysis may run past the budget when requests used it all


def select_checks(config: ScanConfig) -> list[Check]:
    unknown = [c for c in (*config.checks, *config.skip_checks) if c not in checks.BY_ID]
    if unknown:
        raise ConfigError(f"unknown check id: {', '.join(unknown)} (see `middlebrick checks`)")
    chosen = [c for c in checks.ALL if not config.checks or c.id in config.checks]
    return [c for c in chosen if c.id not in config.skip_checks]


def masker_for(config: ScanConfig) -> Masker:
    masker = Masker()
    if config.auth is not None:
        masker.add_basic(config.auth.get_secret_value())
    if config.bearer is not None:
        masker.add(config.bearer.get_secret_value())
    for _, value in config.headers:
        masker.add(value.get_secret_value())
    return masker


async def scan(config: ScanConfig, on_event: OnEvent = ignore) -> Report:
    """Scan the target `config` names and return the report. Raises `MiddlebrickError` only when
    the scan cannot run at all (bad configuration, unreachable target, unreadable spec)."""
    on_event = logged(on_event)
    started_at = datetime.now(UTC)
    clock = time.monotonic()
    selected = select_checks(config)
    masker = masker_for(config)
    verify = tls_context(config.ca_bundle, config.insecure)
    doc = None
    if config.spec:
        on_event(Phase("spec", config.spec))
        if config.spec.startswith(("http://", "https://")):
            text = await fetch_document(
                config.spec, verify=verify, seconds=config.timeout, pin=config.pin
            )
            doc = loader.parse(text, config.spec)
        else:
            doc = await asyncio.to_thread(loader.load, config.spec)
    notes: list[str] = []

    def note(message: str) -> None:
        notes.append(message)
        on_event(Note(message))

    async with HttpClient(
        masker=masker,
        user_agent=USER_AGENT.format(version=__version__),
        timeout=config.timeout,
        concurrency=config.concurrency,
        rate=config.rate,
        deadline=clock + config.budget,
        body_cap=config.body_cap,
        verify=verify,
        pin=config.pin,
    ) as client:
        on_event(Phase("recon", config.target))
        try:
            target, recon_exchanges = await recon.recon(client, config)
        except BudgetExhausted:
            raise ConfigError(
                f"--budget {config.budget:g}s is too short to reach the target"
            ) from None
        if target.origin != target.given_origin:
            note(f"{target.given_origin.url} redirects to {target.origin.url}: scanning over HTTPS")
        origins = {target.origin, target.given_origin}
        if target.http_origin is not None:
            origins.add(target.http_origin)
        scope = Scope(frozenset(origins))

        sender = context.make_sender(client, scope, config)
        on_event(Phase("inventory"))
        spec, spec_exchange = None, None
        if doc is not None:
            spec = api_spec(doc, str(config.spec), target.origin.url)
        elif config.discover_spec:
            try:
                discovered = await discovery.discover_spec(target, sender)
            except BudgetExhausted:
                discovered = None
                note("the scan budget ran out while looking for the API description")
            if discovered is not None:
                doc, spec_exchange = discovered
                spec = api_spec(doc, spec_exchange.request.url, target.origin.url)
                note(f"found the API description at {spec_exchange.request.url}")
        crawled = None
        if spec is None:
            try:
                crawled = await discovery.crawl(target, recon_exchanges[-1], scope, sender)
            except BudgetExhausted:
                note("the scan budget ran out while building the inventory")
        operations = discovery.inventory(target, spec, crawled)
        facts = context.Facts(
            target, operations, protected=frozenset(), spec=spec, spec_exchange=spec_exchange
        )

        on_event(Phase("baseline", f"{len(operations)} operations"))
        tested, skipped = await _baseline(operations, sender, config)
        if skipped.get("budget"):
            note("the scan budget ran out during the baseline requests; results are partial")
        protected = frozenset(
            ex.request.url
            for ex in client.exchanges
            if not ex.request.authenticated and ex.response and ex.response.status in (401, 403)
        )
        target = dataclasses.replace(target, auth_schemes=recon.auth_schemes(client.exchanges))
        facts = dataclasses.replace(facts, target=target, protected=protected)

        active = [c for c in selected if c.kind is Kind.ACTIVE]
        passive = [c for c in selected if c.kind in (Kind.PASSIVE, Kind.STATIC)]
        progress = Progress(len(active) + len(passive), on_event)
        on_event(Phase("checks", f"{len(active)} active checks"))
        active_runs, raw = await run_active(
            active,
            lambda c: context.probe_context(c, facts, client, sender, config),
            lambda: client.remaining,
            progress,
        )
        on_event(Phase("analysis", f"{len(client.exchanges)} exchanges"))
        recorded = list(client.exchanges)
        # analysis may use what is left of the budget, and at least a second past it
        analysis_ends = max(time.monotonic() + ANALYSIS_GRACE, clock + config.budget)
        passive_runs, raw_passive = run_passive(
            passive,
            lambda c: context.passive_context(c, facts, recorded),
            progress,
            lambda: analysis_ends - time.monotonic(),
        )
        requests_sent = client.requests_sent
        for message in _traffic_notes(client, recorded, target.origin.url):
            note(message)

    on_event(Phase("report"))
    ca_hint = (
        "-k"
        if config.insecure
        else (f"--cacert {shlex.quote(str(config.ca_bundle))}" if config.ca_bundle else "")
    )
    for raw_finding in (*raw, *raw_passive):
        masker.add(*raw_finding.secrets)  # found secrets are masked like the user's own
    declared_kinds = [s.kind for s in spec.schemes.values()] if spec else []
    auth = scheme_of([*target.credential_kinds, *target.auth_schemes, *declared_kinds])
    found = findings.merge([*raw, *raw_passive], target.framework, masker, ca_hint, spec, auth)
    runs = [_masked(r, masker) for r in (*active_runs, *passive_runs)]
    if any(r.status is CheckStatus.INCOMPLETE and r.reason == OUT_OF_BUDGET for r in runs):
        note("some checks did not finish within the budget (--budget); see the checks list")
    referenced = {e.exchange_id for f in found for e in f.evidence if e.exchange_id is not None}
    finished_at = datetime.now(UTC)
    declared = len(spec.operations) if spec else len(operations)
    report = Report(
        tool_version=__version__,
        target=_target_info(target),
        spec=config.spec or (spec_exchange.request.url if spec_exchange else None),
        config=config.public_settings(),
        started_at=started_at,
        finished_at=finished_at,
        duration_s=round(time.monotonic() - clock, 3),
        requests_sent=requests_sent,
        score=score.score(found),
        findings=found,
        checks=runs,
        coverage=Coverage(operations_declared=declared, operations_tested=tested, skipped=skipped),
        notes=notes,
        exchanges=[to_record(ex, masker) for ex in recorded if ex.id in referenced],
    )
    return triage.suppress(report, config.suppress, date.today())


async def _baseline(
    operations: list[Operation], sender: Sender, config: ScanConfig
) -> tuple[int, dict[str, int]]:
    """Request every GET and HEAD operation without credentials and, if some were given, with
    them. With --unsafe, other methods are sent too, but only without credentials: an API that
    enforces authentication refuses them before they can change anything."""
    skipped: dict[str, int] = {}
    jobs = []
    for op in operations:
        if op.method == "OPTIONS":
            skipped["OPTIONS (answered by CORS layers, not the operation)"] = (
                skipped.get("OPTIONS (answered by CORS layers, not the operation)", 0) + 1
            )
            continue
        if op.method not in ("GET", "HEAD") and not config.unsafe:
            skipped["write method (needs --unsafe)"] = (
                skipped.get("write method (needs --unsafe)", 0) + 1
            )
            continue
        jobs.append(sender(op.method, op.url, purpose="baseline (no credentials)"))
        if config.has_credentials and op.method in ("GET", "HEAD"):
            jobs.append(sender(op.method, op.url, credentials=True, purpose="baseline"))
    results = await asyncio.gather(*jobs, return_exceptions=True)
    budget = sum(isinstance(r, BudgetExhausted) for r in results)
    for r in results:
        if isinstance(r, BaseException) and not isinstance(r, BudgetExhausted):
            raise r
    if budget:
        skipped["budget"] = budget
    tested = len(
        {
            (r.request.method, r.request.url)
            for r in results
            if isinstance(r, Exchange) and r.response
        }
    )
    return tested, skipped


def _traffic_notes(client: HttpClient, recorded: list[Exchange], origin: str) -> list[str]:
    """What the user must know about how the target answered: rate limiting, requests that got
    no answer, answers that were all server errors, bodies kept only in part."""
    notes = []
    if client.throttled:
        counts = ", ".join(f"{n} × {status}" for status, n in sorted(client.throttled.items()))
        rate = client.rate
        notes.append(
            f"the target rate-limited the scan ({counts}); slowed to {rate:.1f} req/s"
            if rate
            else f"the target rate-limited the scan ({counts})"
        )
    failed = [ex for ex in recorded if unanswered(ex, origin)]
    if failed:
        kinds = Counter(str(ex.error_kind or "error") for ex in failed)
        example = Counter(ex.error for ex in failed).most_common(1)[0][0]
        notes.append(
            f"{len(failed)} of {len(recorded)} requests got no answer "
            f"({', '.join(f'{n} × {kind}' for kind, n in kinds.most_common())}; e.g. {example}); "
            "checks that depend on them are marked incomplete or judged on the rest"
        )
    answered = [ex.response for ex in recorded if ex.response is not None]
    errors = sum(r.status >= 500 for r in answered)
    if len(answered) >= 5 and errors * 10 >= len(answered) * 9:
        notes.append(
            f"the target answered {errors} of {len(answered)} requests with a server error "
            "(5xx): checks judged error pages, which says little about the API itself"
        )
    if client.bodies_shortened:
        notes.append(
            f"{client.bodies_shortened} response bodies were kept only in part (the first "
            f"{RETAINED_HEAD >> 10} KiB) once the scan held {RETAINED_BODIES >> 20} MiB of "
            "bodies; they are marked truncated"
        )
    return notes


def _masked(run: CheckRun, masker: Masker) -> CheckRun:
    if run.reason is None:
        return run
    return run.model_copy(update={"reason": masker.mask(run.reason)})


def _target_info(target: Target) -> TargetInfo:
    return TargetInfo(
        url=target.url,
        origin=target.given_origin.url,
        scanned_origin=target.origin.url,
        server=target.server,
        framework=target.framework,
        auth_schemes=list(target.auth_schemes),
        tls=target.tls,
    )


def audit(
    source: str,
    *,
    checks: tuple[str, ...] = (),
    skip: tuple[str, ...] = (),
    suppress: tuple[triage.SuppressRule, ...] = (),
) -> Report:
    """Run the static rules over an API description file; no network."""
    started_at = datetime.now(UTC)
    clock = time.monotonic()
    unknown = [c for c in (*checks, *skip) if c not in BY_ID]
    if unknown:
        raise ConfigError(f"unknown check id: {', '.join(unknown)} (see `middlebrick checks`)")
    selected = [
        c
        for c in ALL
        if c.kind is Kind.STATIC and (not checks or c.id in checks) and c.id not in skip
    ]
    spec = api_spec(loader.load(source), source, "")
    origin = Origin("https", "spec.invalid", 443)
    target = Target(
        url=source,
        origin=origin,
        base_path="",
        given_origin=origin,
        http_origin=None,
        server=None,
        framework="generic",
        auth_schemes=(),
        has_credentials=False,
        credential_kinds=(),
    )
    facts = context.Facts(target, spec.operations, frozenset(), spec=spec)
    runs, raw = run_passive(
        selected, lambda c: context.passive_context(c, facts, ()), Progress(len(selected), ignore)
    )
    auth = scheme_of(s.kind for s in spec.schemes.values())
    found = findings.merge(raw, "generic", Masker(), "", spec, auth)
    report = Report(
        tool_version=__version__,
        target=TargetInfo(
            url=source,
            origin=source,
            scanned_origin=source,
            server=None,
            framework="generic",
            auth_schemes=sorted({s.kind for s in spec.schemes.values()}),
            tls=False,
        ),
        spec=source,
        config={"mode": "audit", "spec": source, "checks": list(checks), "skip_checks": list(skip)},
        started_at=started_at,
        finished_at=datetime.now(UTC),
        duration_s=round(time.monotonic() - clock, 3),
        requests_sent=0,
        score=score.score(found),
        findings=found,
        checks=runs,
        coverage=Coverage(
            operations_declared=len(spec.operations), operations_tested=len(spec.operations)
        ),
        notes=[],
        exchanges=[],
    )
    return triage.suppress(report, suppress, date.today())
