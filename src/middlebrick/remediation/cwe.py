"""Official names of the CWE entries the checks map to, exactly as MITRE's CWE List (4.13+)
spells them; `middlebrick explain --cwe` and docs/remediation.md print them. A test fails when a
check maps to a CWE that has no name here."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from middlebrick.model import Category, Severity

if TYPE_CHECKING:
    from middlebrick.checks._check import Check

NAMES: dict[int, str] = {
    94: "Improper Control of Generation of Code ('Code Injection')",
    200: "Exposure of Sensitive Information to an Unauthorized Actor",
    209: "Generation of Error Message Containing Sensitive Information",
    213: "Exposure of Sensitive Information Due to Incompatible Policies",
    215: "Insertion of Sensitive Information Into Debugging Code",
    285: "Improper Authorization",
    287: "Improper Authentication",
    288: "Authentication Bypass Using an Alternate Path or Channel",
    295: "Improper Certificate Validation",
    297: "Improper Validation of Certificate with Host Mismatch",
    298: "Improper Validation of Certificate Expiration",
    306: "Missing Authentication for Critical Function",
    312: "Cleartext Storage of Sensitive Information",
    319: "Cleartext Transmission of Sensitive Information",
    326: "Inadequate Encryption Strength",
    327: "Use of a Broken or Risky Cryptographic Algorithm",
    346: "Origin Validation Error",
    348: "Use of Less Trusted Source",
    359: "Exposure of Private Personal Information to an Unauthorized Actor",
    436: "Interpretation Conflict",
    497: "Exposure of Sensitive System Information to an Unauthorized Control Sphere",
    522: "Insufficiently Protected Credentials",
    523: "Unprotected Transport of Credentials",
    524: "Use of Cache Containing Sensitive Information",
    525: "Use of Web Browser Cache Containing Sensitive Information",
    532: "Insertion of Sensitive Information into Log File",
    538: "Insertion of Sensitive Information into Externally-Accessible File or Directory",
    540: "Inclusion of Sensitive Information in Source Code",
    598: "Use of GET Request Method With Sensitive Query Strings",
    693: "Protection Mechanism Failure",
    862: "Missing Authorization",
    863: "Incorrect Authorization",
    912: "Hidden Functionality",
    916: "Use of Password Hash With Insufficient Computational Effort",
    942: "Permissive Cross-domain Policy with Untrusted Domains",
    1059: "Insufficient Technical Documentation",
}

# the data-exposure weaknesses the project names in its scope, whether or not a check maps to them
REQUIRED = (200, 209, 213, 215, 312, 359, 522, 532, 538, 540)


def cwe_name(number: int) -> str:
    return NAMES.get(number, "(name not recorded)")


def cwe_url(number: int) -> str:
    return f"https://cwe.mitre.org/data/definitions/{number}.html"


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


@dataclass(frozen=True, slots=True)
class CweUse:
    """One CWE within one category: its name and the checks (with their severities) mapping to it."""

    number: int
    name: str
    severities: tuple[Severity, ...]  # worst first
    checks: tuple[str, ...]


def cwe_table(checks: Iterable[Check]) -> dict[Category, list[CweUse]]:
    """Per category (in registry order), every CWE its checks map to, by number."""
    found: dict[Category, dict[int, list[Check]]] = {}
    for c in checks:
        for number in c.cwe:
            found.setdefault(c.category, {}).setdefault(number, []).append(c)
    return {
        category: [
            CweUse(
                number,
                cwe_name(number),
                tuple(sorted({c.severity for c in users}, key=lambda s: -s.rank)),
                tuple(c.id for c in users),
            )
            for number, users in sorted(numbers.items())
        ]
        for category, numbers in found.items()
    }


def cwe_markdown(checks: Iterable[Check], heading: str = "##") -> str:
    """The CWE table as Markdown: one table per category."""
    blocks = []
    for category, rows in cwe_table(checks).items():
        lines = [
            f"{heading} {category}",
            "",
            "| CWE | name | severities | checks |",
            "|---|---|---|---|",
        ]
        lines += [
            f"| [CWE-{r.number}]({cwe_url(r.number)}) | {r.name} | {', '.join(r.severities)} "
            f"| {', '.join(r.checks)} |"
            for r in rows
        ]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"
