"""Write the generated parts of docs/ from the code: one page per check, the check index, and the
JSON Schema of the report. Run `make docs`; a test fails when the committed pages are stale."""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

from middlebrick.checks import ALL
from middlebrick.checks._check import Check
from middlebrick.remediation import FRAMEWORKS
from middlebrick.remediation.fixes import FIXES
from middlebrick.report.json_writer import schema

OWASP_NAMES = {
    "API1:2023": "Broken Object Level Authorization",
    "API2:2023": "Broken Authentication",
    "API3:2023": "Broken Object Property Level Authorization",
    "API4:2023": "Unrestricted Resource Consumption",
    "API5:2023": "Broken Function Level Authorization",
    "API6:2023": "Unrestricted Access to Sensitive Business Flows",
    "API7:2023": "Server Side Request Forgery",
    "API8:2023": "Security Misconfiguration",
    "API9:2023": "Improper Inventory Management",
    "API10:2023": "Unsafe Consumption of APIs",
}


def check_page(c: Check) -> str:
    cwes = ", ".join(f"[CWE-{n}](https://cwe.mitre.org/data/definitions/{n}.html)" for n in c.cwe)
    lines = [
        f"# {c.id}: {c.title}",
        "",
        "| | |",
        "|---|---|",
        f"| category | {c.category} |",
        f"| severity | {c.severity} (may be raised for the worst cases, see below) |",
        f"| CWE | {cwes} |",
        f"| OWASP API Top 10 | {c.owasp} {OWASP_NAMES[c.owasp]} |",
        f"| kind | {c.kind} |",
        "",
        _dedent(c.doc),
        "",
        "## How to fix it",
        "",
    ]
    fixes = FIXES.get(c.id, {})
    for framework in FRAMEWORKS:
        if framework in fixes:
            lines += [f"### {framework}", "", fixes[framework], ""]
    if not fixes:
        lines += ["No framework-specific fix is written yet.", ""]
    lines += [
        "## Run only this check",
        "",
        f"```sh\nmiddlebrick scan https://api.example.com --check {c.id}\n```",
        "",
        "*Generated from the check's code by `make docs`; edit the docstring, not this page.*",
        "",
    ]
    return "\n".join(lines)


def index_page() -> str:
    lines = [
        "# Checks",
        "",
        "Every check middlebrick runs, from the registry (`middlebrick checks` prints the same).",
        "IDs are stable and never reused.",
        "",
        "| id | title | category | severity | CWE | OWASP |",
        "|---|---|---|---|---|---|",
    ]
    for c in ALL:
        cwe = ", ".join(str(n) for n in c.cwe)
        lines.append(
            f"| [{c.id}]({c.id}.md) | {c.title} | {c.category} | {c.severity} | {cwe} | {c.owasp} |"
        )
    return "\n".join(lines) + "\n"


def _dedent(doc: str) -> str:
    first, _, rest = doc.partition("\n")
    return (first + "\n" + textwrap.dedent(rest)).strip()


def pages(root: Path) -> dict[Path, str]:
    out = {root / "checks" / f"{c.id}.md": check_page(c) for c in ALL}
    out[root / "checks" / "README.md"] = index_page()
    out[root / "report.schema.json"] = json.dumps(schema(), indent=2, sort_keys=True) + "\n"
    return out


def main(argv: list[str]) -> int:
    root = Path(argv[1]) if len(argv) > 1 else Path(__file__).parent
    for path, text in pages(root).items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    print(f"wrote {len(ALL)} check pages, the index and the report schema under {root}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
