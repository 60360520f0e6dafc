"""Debug and management endpoints: each found by its content at its path, with the severity of what
it shows; planted secrets masked in the report; nothing reported for health checks, plain counters,
masked or public settings, endpoints behind a login, soft-404 servers and single-page apps."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from middlebrick.checks.analyzers.settings import real_secret, secret_name, secret_settings
from middlebrick.demo.server import serve
from middlebrick.model import Confidence, Report, Severity
from middlebrick.report import WRITERS

from checks.conftest import scan_now
from targets.debug import (
    ACTUATOR_ENV,
    CONFIG_DUMP,
    ENV_DB_PASSWORD,
    ENV_JWT_SECRET,
    MASKED_SETTINGS,
    PLANTED,
    PUBLIC_CONFIG,
    answers_every_path,
    behind_login,
    clean_service,
    go_service,
    spa_catch_all,
    spring_boot_1_app,
    spring_boot_app,
    under_context_path,
    web_server_pages,
)

CHECK = ("MB-DATA-016",)
CORPUS = Path(__file__).parent.parent / "corpus" / "benign"


def _found(report: Report, url: str) -> dict[str, Severity]:
    return {f.endpoints[0].removeprefix(f"GET {url}"): f.severity for f in report.findings}


@pytest.mark.check("MB-DATA-016")
@pytest.mark.parametrize(
    ("app", "expected"),
    [
        (
            spring_boot_app,
            {
                "/actuator": Severity.MEDIUM,  # lists env, heapdump, configprops, ...
                "/actuator/env": Severity.CRITICAL,  # show-values=ALWAYS: secrets in clear
                "/actuator/configprops": Severity.HIGH,  # masked, still the whole configuration
                "/actuator/mappings": Severity.MEDIUM,
                "/actuator/loggers": Severity.MEDIUM,
                "/actuator/heapdump": Severity.CRITICAL,
            },
        ),
        (spring_boot_1_app, {"/env": Severity.HIGH}),
        (
            web_server_pages,
            {
                "/server-status": Severity.CRITICAL,  # a reset token in a request URL
                "/server-info": Severity.MEDIUM,
                "/nginx_status": Severity.LOW,
                "/phpinfo.php": Severity.CRITICAL,  # DB_PASSWORD and APP_KEY in $_SERVER
                "/info.php": Severity.HIGH,  # only ${DB_PASSWORD}: no secret, still phpinfo
            },
        ),
        (
            go_service,
            {
                "/metrics": Severity.CRITICAL,  # a DSN with its password and an API token
                "/debug/vars": Severity.CRITICAL,  # -db-password=… on the command line
                "/debug/pprof/": Severity.MEDIUM,
                "/config": Severity.CRITICAL,
            },
        ),
    ],
    ids=["spring-boot", "spring-boot-1", "web-server-pages", "go-service"],
)
def test_debug_endpoints_flags_each_exposed_endpoint_with_its_severity(
    app: Callable[[], Any], expected: dict[str, Severity]
) -> None:
    with serve(app()) as served:
        report = scan_now(served.url, checks=CHECK)
    assert _found(report, served.url) == expected
    for finding in report.findings:
        secret_seen = "unmasked secret" in finding.detail
        assert (finding.severity is Severity.CRITICAL) == (
            secret_seen or "heapdump" in finding.endpoints[0]
        )
        if secret_seen:
            assert finding.confidence is Confidence.CERTAIN


@pytest.mark.check("MB-DATA-016")
def test_debug_endpoints_flags_actuator_under_the_targets_context_path() -> None:
    with serve(under_context_path(spring_boot_app(), "/orders")) as served:
        report = scan_now(served.url + "/orders", checks=CHECK)
    found = _found(report, served.url)
    assert set(found) == {
        "/orders/actuator",
        "/orders/actuator/env",
        "/orders/actuator/configprops",
        "/orders/actuator/mappings",
        "/orders/actuator/loggers",
        "/orders/actuator/heapdump",
    }


@pytest.mark.check("MB-DATA-016")
def test_debug_endpoints_flags_a_heap_dump_from_its_first_kilobyte() -> None:
    with serve(spring_boot_app()) as served:
        report = scan_now(served.url, checks=CHECK)
    (finding,) = [f for f in report.findings if f.endpoints[0].endswith("/actuator/heapdump")]
    assert "JAVA PROFILE 1.0.2" in finding.evidence[0].excerpt
    record = next(x for x in report.exchanges if x.request.url.endswith("/actuator/heapdump"))
    assert record.response is not None
    assert record.response.status == 206
    assert record.response.body_size == 1024  # of a 256 KiB dump


@pytest.mark.check("MB-DATA-016")
def test_debug_endpoints_flags_env_secrets_and_not_placeholders() -> None:
    with serve(spring_boot_app()) as served:
        report = scan_now(served.url, checks=CHECK)
    (env,) = [f for f in report.findings if f.endpoints[0].endswith("/actuator/env")]
    assert "with 2 unmasked secret(s)" in env.detail
    excerpt = env.evidence[0].excerpt
    assert "DB_PASSWORD = plan…(26)" in excerpt
    assert "app.jwt.signing-secret = plan…(26)" in excerpt
    assert "${DB_PASSWORD}" not in excerpt  # a reference, not a secret


@pytest.mark.parametrize("app", [spring_boot_app, web_server_pages, go_service])
def test_debug_endpoint_secrets_never_appear_in_the_json_report(app: Callable[[], Any]) -> None:
    with serve(app()) as served:
        report = scan_now(served.url, checks=CHECK)
    rendered = WRITERS["json"].render(report)
    assert json.loads(rendered)["findings"]
    for planted in PLANTED:
        assert planted not in rendered
    assert "plan…(" in rendered  # masked, not dropped


@pytest.mark.check("MB-DATA-016")
def test_debug_endpoints_ignores_a_clean_service() -> None:
    """Actuator with health and info only, plain counters, masked and public settings, 401/403."""
    with serve(clean_service()) as served:
        report = scan_now(served.url, checks=CHECK)
    assert report.findings == []
    (run,) = [r for r in report.checks if r.check_id == "MB-DATA-016"]
    assert run.status == "completed"


@pytest.mark.check("MB-DATA-016")
@pytest.mark.parametrize("app", [spring_boot_app, web_server_pages], ids=["spring", "web"])
def test_debug_endpoints_ignores_endpoints_that_demand_credentials(
    app: Callable[[], Any],
) -> None:
    with serve(behind_login(app)()) as served:
        report = scan_now(served.url, checks=CHECK)
    assert report.findings == []


@pytest.mark.check("MB-DATA-016")
@pytest.mark.parametrize(
    "server",
    [
        lambda: answers_every_path("<html><body><h1>Not found</h1></body></html>", "text/html"),
        lambda: answers_every_path(json.dumps(CONFIG_DUMP), "application/json"),
        lambda: answers_every_path(json.dumps(ACTUATOR_ENV), "application/json"),
        spa_catch_all,
    ],
    ids=["html-soft-404", "config-everywhere", "env-everywhere", "spa-catch-all"],
)
def test_debug_endpoints_ignores_servers_that_answer_every_path(server: Callable[[], Any]) -> None:
    with serve(server()) as served:
        report = scan_now(served.url, checks=CHECK)
    assert report.findings == []


def test_debug_endpoints_send_about_25_requests() -> None:
    with serve(spring_boot_app()) as served:
        with_check = scan_now(served.url, checks=CHECK).requests_sent
        without = scan_now(served.url, checks=("MB-CONF-001",)).requests_sent
    assert 20 <= with_check - without <= 27


def test_secret_names() -> None:
    for name in (
        "spring.datasource.password",
        "DB_PASS",
        "jwtSecret",
        "STRIPE_API_KEY",
        "SECRET_KEY",
        "app.jwt.signing-key",
        "client-secret",
        "GITHUB_TOKEN",
        "APP_KEY",
    ):
        assert secret_name(name), name
    for name in (
        "PWD",
        "password_min_length",
        "token_ttl_seconds",
        "secret_question",
        "server.ssl.key-store",
        "stripe_publishable_key",
        "recaptcha_site_key",
        "bypass",
        "key",
    ):
        assert not secret_name(name), name


def test_placeholders_are_not_secrets() -> None:
    for value in (
        "",
        "******",
        "sk-…last4:9f2c",
        "ab***yz",
        "<redacted>",
        "[REDACTED]",
        "${DB_PASSWORD}",
        "{{ vault_db_password }}",
        "$DB_PASSWORD",
        "changeme",
        "null",
        "your-api-key-here",
        "env:DB_PASSWORD",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    ):
        assert not real_secret(value), value
    assert real_secret("planted-db-pass-4f1c9a")
    assert real_secret("base64:cGxhbnRlZC1sYXJhdmVsLWFwcC1rZXk=")


def test_secret_settings_in_documents() -> None:
    assert secret_settings(MASKED_SETTINGS) == []
    assert secret_settings(PUBLIC_CONFIG) == []
    assert secret_settings(ACTUATOR_ENV) == [
        ("DB_PASSWORD", ENV_DB_PASSWORD),
        ("app.jwt.signing-secret", ENV_JWT_SECRET),
    ]
    pod_env = [{"name": "DB_PASSWORD", "value": "s3cr3t-pod"}, {"name": "LOG_LEVEL", "value": "x"}]
    assert secret_settings({"env": pod_env}) == [("DB_PASSWORD", "s3cr3t-pod")]
    assert secret_settings({"cmd": "java -Dapp.db.password=hunter22 -jar app.jar"}) == [
        ("cmd", "hunter22")
    ]
    assert secret_settings({"url": "redis://cache:hunter22@redis:6379/0"}) == [("url", "hunter22")]
    assert secret_settings({"hint": "password: at least 12 characters"}) == []


@pytest.mark.parametrize("path", sorted(CORPUS.glob("*.json")), ids=lambda p: p.stem)
def test_benign_documents_hold_no_secret_settings(path: Path) -> None:
    assert secret_settings(json.loads(path.read_text())) == []
