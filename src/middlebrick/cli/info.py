"""`middlebrick checks` and `middlebrick demo`."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Literal

import typer
from rich.console import Console

from middlebrick.cli import app, boundary


@app.command("checks")
def list_checks(
    fmt: Annotated[
        Literal["text", "json"], typer.Option("--format", "-f", help="text or json.")
    ] = "text",
) -> None:
    """List every check: id, title, category, severity, CWE and OWASP API Top 10 (2023) id."""
    from rich.table import Table

    from middlebrick.checks import ALL

    if fmt == "json":
        rows = [
            {
                "id": c.id,
                "title": c.title,
                "category": c.category,
                "severity": c.severity,
                "cwe": list(c.cwe),
                "owasp": c.owasp,
                "kind": c.kind,
                "summary": c.summary,
            }
            for c in ALL
        ]
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return
    table = Table("id", "title", "category", "severity", "CWE", "OWASP", box=None, highlight=False)
    for c in ALL:
        table.add_row(c.id, c.title, c.category, c.severity, ",".join(map(str, c.cwe)), c.owasp)
    Console(highlight=False).print(table)


@app.command()
def demo(
    fixed_only: Annotated[bool, typer.Option(help="Scan only the fixed twin.")] = False,
) -> None:
    """Start the bundled vulnerable demo API on loopback, scan it, then scan its fixed twin."""
    from middlebrick.cli.scanning import run_scan
    from middlebrick.demo.run import run_demo

    with boundary():
        run_demo(
            lambda config: run_scan(config, quiet=False),
            Console(highlight=False),
            fixed_only=fixed_only,
        )
