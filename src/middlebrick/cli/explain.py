"""`middlebrick explain`: one check's documentation and its fix for a framework and auth scheme,
or the CWE table. Markdown, rendered by Rich on a terminal and printed as is otherwise."""

from __future__ import annotations

import difflib
import sys
import textwrap
from typing import Annotated, Literal

import typer

from middlebrick.cli import app, boundary, stderr
from middlebrick.errors import ConfigError


@app.command()
def explain(
    check_id: Annotated[
        str | None, typer.Argument(help="A check id, e.g. MB-ENC-001 (see `middlebrick checks`).")
    ] = None,
    framework: Annotated[
        Literal["flask", "fastapi", "django", "express", "generic"],
        typer.Option("--framework", help="Write the fix for this framework."),
    ] = "generic",
    auth: Annotated[
        Literal["basic", "bearer", "apikey"] | None,
        typer.Option("--auth", help="The API's auth scheme, where it changes the fix."),
    ] = None,
    cwe: Annotated[
        bool, typer.Option("--cwe", help="Print the CWE table: every CWE the checks map to.")
    ] = False,
) -> None:
    """Explain a check — severity, CWE, OWASP, what it finds — and how to fix it."""
    from middlebrick.checks import ALL, BY_ID
    from middlebrick.remediation.cwe import cwe_markdown

    with boundary():
        if cwe:
            _show(f"# CWE entries by category\n\n{cwe_markdown(ALL)}")
            return
        if check_id is None:
            raise ConfigError("give a check id (e.g. `middlebrick explain MB-ENC-001`) or --cwe")
        wanted = check_id.strip().upper()
        if wanted not in BY_ID:
            near = difflib.get_close_matches(wanted, list(BY_ID), n=3, cutoff=0.6)
            hint = f"did you mean {', '.join(near)}?" if near else "see `middlebrick checks`"
            raise ConfigError(f"unknown check id {check_id!r}; {hint}")
        _show(_page(wanted, framework, auth))
        if auth is None and _by_scheme(wanted, framework):
            stderr.print(
                "note: this fix differs by auth scheme; --auth basic|bearer|apikey shows one"
            )


def _page(check_id: str, framework: str, auth: str | None) -> str:
    from middlebrick.checks import BY_ID
    from middlebrick.remediation import FIXES, SCHEME_LABELS, fix_for, schemes_markdown
    from middlebrick.remediation.cwe import OWASP_NAMES, cwe_name

    c = BY_ID[check_id]
    first, _, rest = c.doc.partition("\n")
    doc = (first + "\n" + textwrap.dedent(rest)).strip()
    fix = FIXES[check_id].get(framework, FIXES[check_id]["generic"])
    by_scheme = isinstance(fix, dict)
    if by_scheme and auth is not None:
        text, written_for = fix_for(check_id, framework, auth)
        for_whom = f"{written_for}, {SCHEME_LABELS[auth]}"
    else:
        text, written_for = schemes_markdown(fix), fix_for(check_id, framework)[1]
        for_whom = written_for + (", per auth scheme" if by_scheme else "")
    cwes = "; ".join(f"CWE-{n} {cwe_name(n)}" for n in c.cwe)
    return "\n".join(
        [
            f"# {c.id}: {c.title}",
            "",
            f"- **severity:** {c.severity} (may be raised for the worst cases)",
            f"- **category:** {c.category}",
            f"- **CWE:** {cwes}",
            f"- **OWASP API Top 10:** {c.owasp} {OWASP_NAMES.get(c.owasp, '')}".rstrip(),
            f"- **kind:** {c.kind}",
            "",
            doc,
            "",
            f"## How to fix it ({for_whom})",
            "",
            text,
            "",
        ]
    )


def _by_scheme(check_id: str, framework: str) -> bool:
    from middlebrick.remediation import FIXES

    return isinstance(FIXES[check_id].get(framework, FIXES[check_id]["generic"]), dict)


def _show(markdown: str) -> None:
    from rich.console import Console
    from rich.markdown import Markdown

    console = Console(highlight=False)
    if console.is_terminal:
        console.print(Markdown(markdown))
    else:
        sys.stdout.write(markdown if markdown.endswith("\n") else markdown + "\n")
