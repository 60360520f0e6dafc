"""`middlebrick demo`: serve the vulnerable demo API on loopback, scan it, then scan its fixed twin
(HTTPS with a throwaway CA, behind a plain-HTTP listener that redirects), and compare."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

from pydantic import SecretStr
from rich.console import Console

from middlebrick.config import ScanConfig
from middlebrick.demo.apps import DEMO_PASSWORD, DEMO_USER, fixed_app, vulnerable_app
from middlebrick.demo.server import serve
from middlebrick.demo.tls import local_ca, server_context
from middlebrick.model import Report
from middlebrick.report.text import show

Scan = Callable[[ScanConfig], Report]


def https_redirect(
    https_port: int,
) -> Callable[[dict[str, object], Callable[..., object]], Iterable[bytes]]:
    """A WSGI app that sends every request to the same path on the HTTPS port, permanently."""

    def app(environ: dict[str, object], start_response: Callable[..., object]) -> Iterable[bytes]:
        path = str(environ.get("PATH_INFO", "/"))
        query = str(environ.get("QUERY_STRING", ""))
        location = f"https://127.0.0.1:{https_port}{path}" + (f"?{query}" if query else "")
        start_response("308 Permanent Redirect", [("Location", location), ("Content-Length", "0")])
        return [b""]

    return app


def run_demo(scan: Scan, console: Console, *, fixed_only: bool = False) -> None:
    credentials = SecretStr(f"{DEMO_USER}:{DEMO_PASSWORD}")
    results: list[tuple[str, Report]] = []
    if not fixed_only:
        with serve(vulnerable_app()) as api:
            console.rule(f"[bold]1/2  the vulnerable demo API on {api.url}")
            console.print(
                "Flask + Flask-HTTPAuth over plain HTTP. Scanning with "
                f"--spec {api.url}/openapi.json and --auth {DEMO_USER}:…\n"
            )
            report = scan(
                ScanConfig(target=api.url, spec=f"{api.url}/openapi.json", auth=credentials)
            )
            show(report, console)
            results.append(("vulnerable", report))
    with tempfile.TemporaryDirectory(prefix="middlebrick-demo-") as tmp:
        ca = local_ca()
        ca_pem = Path(tmp) / "demo-ca.pem"
        ca.cert_pem.write_to_path(str(ca_pem))
        with (
            serve(
                fixed_app(), tls=server_context(ca, "127.0.0.1"), ca_pem=ca_pem, server_header="api"
            ) as api,
            serve(https_redirect(api.port), server_header="api") as http,
        ):
            console.rule(f"[bold]2/2  the fixed twin: {http.url} → {api.url}")
            console.print(
                "The same API on HTTPS (a throwaway local CA), HSTS, no-store, nosniff, hashed "
                "passwords, a 308 redirect from HTTP.\n"
            )
            report = scan(
                ScanConfig(
                    target=http.url,
                    spec=f"{api.url}/openapi.json",
                    auth=credentials,
                    ca_bundle=ca_pem,
                )
            )
            show(report, console)
            results.append(("fixed", report))
    console.rule("[bold]summary")
    for name, report in results:
        counts = ", ".join(
            f"{sum(f.severity == s for f in report.findings)} {s}"
            for s in ("critical", "high", "medium", "low")
        )
        console.print(
            f"  {name:<10} grade {report.score.grade}  score {report.score.score:>3}/100  "
            f"({counts})  {report.requests_sent} requests in {report.duration_s:.2f}s"
        )
