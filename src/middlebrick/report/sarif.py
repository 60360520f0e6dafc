"""SARIF 2.1.0, shaped for GitHub code scanning: one rule per check that ran, one result per finding
(accepted ones marked as suppressed), located on the affected operation's line in the spec file.

The format is documented in docs/report-format.md.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from middlebrick.model import (
    BaselineState,
    CheckRun,
    CheckStatus,
    Finding,
    Report,
    Severity,
    SpecLocation,
)

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
FINGERPRINT_KEY = "middlebrick/v1"
SRCROOT = "%SRCROOT%"

LEVEL = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}
# GitHub buckets these into its critical (> 9.0), high (7.0-8.9), medium (4.0-6.9) and low
# (0.1-3.9); an info check gets none: GitHub shows it as a plain note, not a security alert.
SECURITY_SEVERITY = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "3.0",
}
MAX_ENDPOINTS_LISTED = 10
MAX_DESCRIPTION = 1024  # GitHub's limit for shortDescription and fullDescription
FIX_HINT = (
    "each finding carries the fix for the framework middlebrick detected; "
    "`middlebrick checks` describes what every check looks for."
)
_SEMVER = re.compile(r"\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?")


@dataclass(frozen=True, slots=True)
class SarifWriter:
    name: str = "sarif"
    suffix: str = ".sarif"
    root: Path | None = None
    """The repository root that spec file paths are made relative to; None: the working directory
    at render time (CI runs middlebrick from the checkout)."""

    def render(self, report: Report) -> str:
        log = sarif_log(report, root=self.root or Path.cwd())
        return json.dumps(log, indent=2, ensure_ascii=False) + "\n"


WRITER = SarifWriter()


def sarif_log(report: Report, *, root: Path) -> dict[str, Any]:
    """The whole SARIF log as plain JSON data: one run, nothing random, so equal reports give equal
    logs."""
    rules = _rules(report)
    index = {rule["id"]: i for i, rule in enumerate(rules)}
    results = [_result(f, report, index, root) for f in _ordered(report.findings)]
    results += [_result(f, report, index, root) for f in _ordered(report.suppressed)]
    driver: dict[str, Any] = {"name": "middlebrick", "version": report.tool_version}
    if _SEMVER.fullmatch(report.tool_version):
        driver["semanticVersion"] = report.tool_version
    driver["rules"] = rules
    run: dict[str, Any] = {
        "tool": {"driver": driver},
        "automationDetails": {"id": _category(report, root)},
        "originalUriBaseIds": {
            SRCROOT: {
                "description": {
                    "text": "The repository root: the directory middlebrick ran in. "
                    "Spec file paths are relative to it."
                }
            }
        },
        "invocations": [_invocation(report, index)],
        "results": results,
    }
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}


# rules ------------------------------------------------------------------------------------------


def check_runs(report: Report) -> dict[str, CheckRun]:
    """The report's checks by id, plus any check a finding names that `checks` does not list (a
    hand-made or older report), described from the finding."""
    runs = {run.check_id: run for run in report.checks}
    for f in [*report.findings, *report.suppressed]:
        runs.setdefault(
            f.check_id,
            CheckRun(
                check_id=f.check_id,
                title=f.title,
                category=f.category,
                severity=f.severity,
                cwe=f.cwe,
                owasp=f.owasp,
                status=CheckStatus.COMPLETED,
            ),
        )
    return runs


def _rules(report: Report) -> list[dict[str, Any]]:
    """One rule per check, sorted by id so `ruleIndex` is stable."""
    runs = check_runs(report)
    fixes: dict[str, set[tuple[str, str]]] = {}
    for f in [*report.findings, *report.suppressed]:
        fixes.setdefault(f.check_id, set()).add((f.framework, f.remediation))
    return [_rule(runs[check_id], fixes.get(check_id, set())) for check_id in sorted(runs)]


def _rule(run: CheckRun, fixes: set[tuple[str, str]]) -> dict[str, Any]:
    title = run.title or run.check_id
    summary = run.summary or title
    # The fix is written per finding for the detected framework, and one scan detects one
    # framework: when the findings agree, the rule's help (which GitHub shows on every alert) is
    # the place for it.
    if len(fixes) == 1:
        [(framework, fix)] = fixes
        help_text = f"{summary}\n\nHow to fix ({framework}):\n\n{fix}"
        help_markdown = f"{summary}\n\n## How to fix ({framework})\n\n{fix}"
    else:
        help_text = help_markdown = f"{summary}\n\nHow to fix: {FIX_HINT}"
    severity = run.severity or Severity.MEDIUM
    properties: dict[str, Any] = {"tags": _tags(run)}
    if severity in SECURITY_SEVERITY:
        properties["security-severity"] = SECURITY_SEVERITY[severity]
    return {
        "id": run.check_id,
        "name": _pascal(title),
        "shortDescription": {"text": _clip(title)},
        "fullDescription": {"text": _clip(summary)},
        "help": {"text": help_text, "markdown": help_markdown},
        "defaultConfiguration": {"level": LEVEL[severity]},
        "properties": properties,
    }


def _tags(run: CheckRun) -> list[str]:
    # "external/cwe/cwe-N" is the form GitHub reads a CWE from; "CWE-N" is the one people search.
    tags = ["security"]
    for cwe in run.cwe:
        tags += [f"CWE-{cwe}", f"external/cwe/cwe-{cwe}"]
    if run.owasp:
        tags.append(f"OWASP-{run.owasp}")
    if run.category is not None:
        tags.append(str(run.category))
    return list(dict.fromkeys(tags))


def _pascal(title: str) -> str:
    """A rule's `name` is a Pascal-case identifier by SARIF convention: 'JSON served as HTML' ->
    'JSONServedAsHTML'."""
    words = re.findall(r"[A-Za-z0-9]+", title)
    name = "".join(w[0].upper() + w[1:] for w in words) or "Check"
    return name if name[0].isalpha() else f"Check{name}"


def _clip(text: str) -> str:
    return text if len(text) <= MAX_DESCRIPTION else text[: MAX_DESCRIPTION - 1] + "…"


# results ----------------------------------------------------------------------------------------


def _ordered(findings: list[Finding]) -> list[Finding]:
    # Findings of one check arrive in the order concurrent probes finished; the fingerprint is the
    # stable tie-breaker.
    return sorted(findings, key=lambda f: (-f.severity.rank, f.check_id, f.fingerprint, f.detail))


def _result(f: Finding, report: Report, index: dict[str, int], root: Path) -> dict[str, Any]:
    result: dict[str, Any] = {
        "ruleId": f.check_id,
        "ruleIndex": index[f.check_id],
        "level": LEVEL[f.severity],
        "message": {"text": _message(f)},
        "locations": [_primary_location(f, report, root)],
    }
    if len(f.locations) > 1:
        result["relatedLocations"] = [
            _spec_location(place, root, id_=i) for i, place in enumerate(f.locations[1:], 1)
        ]
    if f.fingerprint:
        # GitHub matches alerts across runs by `primaryLocationLineHash` only, and computes one from
        # the file's text when it is missing, which fails for a URL-only scan's pseudo-file and
        # would follow line edits in a spec. Ours is stable across runs, hosts and ports.
        result["partialFingerprints"] = {
            FINGERPRINT_KEY: f.fingerprint,
            "primaryLocationLineHash": f.fingerprint,
        }
    if f.baseline_state in (BaselineState.NEW, BaselineState.UNCHANGED):
        result["baselineState"] = str(f.baseline_state)
    if f.suppression is not None:
        suppression: dict[str, Any] = {
            "kind": "external",
            "status": "accepted",
            "justification": f.suppression.reason,
        }
        if f.suppression.expires is not None:
            suppression["properties"] = {"expires": f.suppression.expires.isoformat()}
        result["suppressions"] = [suppression]
    properties: dict[str, Any] = {
        "severity": str(f.severity),
        "confidence": f.confidence.name.lower(),
        "cwe": f.cwe,
        "owasp": f.owasp,
        "endpoints": f.endpoints,
        "evidence": [e.excerpt for e in f.evidence],
        "remediation": f.remediation,
        "framework": f.framework,
    }
    if f.reproduce:
        properties["reproduce"] = f.reproduce
    result["properties"] = properties
    return result


def _message(f: Finding) -> str:
    """The detail as a sentence (GitHub titles the alert with the first one), then the endpoints."""
    detail = f.detail.strip() or f.title
    text = detail if detail.endswith((".", "!", "?")) else f"{detail}."
    shown = f.endpoints[:MAX_ENDPOINTS_LISTED]
    if shown:
        text += "\n\nAffected:\n" + "\n".join(f"- {endpoint}" for endpoint in shown)
        if len(f.endpoints) > len(shown):
            text += f"\n- … and {len(f.endpoints) - len(shown)} more."
    return text


def _primary_location(f: Finding, report: Report, root: Path) -> dict[str, Any]:
    """GitHub rejects the whole upload when one result has no location, or a location without a
    `physicalLocation.artifactLocation.uri` and `region.startLine`, or a URI that is not a file
    path (an `http://` URL is refused), so every result gets one, in this order:

    1. the affected operation's line in the spec file, when the finding has one;
    2. line 1 of the spec file, for a finding about the description as a whole or a scan given a
       local `--spec` (the description is the part of the repository that stands for the API);
    3. a stable pseudo-file `.middlebrick/<host>` for a URL-only scan: GitHub shows the alert with
       "file not found in the repository" but keeps it, and the port is left out because CI
       serves the API on a new port each run. The operation goes in a logicalLocation.
    """
    if f.locations:
        return _spec_location(f.locations[0], root)
    logical = _logical(f)
    spec = report.spec
    if spec and "://" not in spec:
        place: dict[str, Any] = {
            "physicalLocation": {
                "artifactLocation": _artifact(spec, root),
                "region": {"startLine": 1},
            }
        }
    else:
        place = {
            "physicalLocation": {
                "artifactLocation": {"uri": f".middlebrick/{quote(_host(report), safe='')}"},
                "region": {"startLine": 1},
            }
        }
    if logical:
        place["logicalLocations"] = logical
    return place


def _spec_location(place: SpecLocation, root: Path, id_: int | None = None) -> dict[str, Any]:
    location: dict[str, Any] = {}
    if id_ is not None:
        location["id"] = id_
    location["physicalLocation"] = {
        "artifactLocation": _artifact(place.file, root),
        "region": {"startLine": place.line},
    }
    location["logicalLocations"] = [{"fullyQualifiedName": place.operation, "kind": "resource"}]
    if id_ is not None:
        location["message"] = {"text": place.operation}
    return location


def _artifact(file: str, root: Path) -> dict[str, Any]:
    """A repository-relative path when the spec file is under `root` (GitHub resolves relative
    URIs against the checkout); otherwise an absolute `file:` URI, which the upload-sarif action
    relativises against its checkout path."""
    path = Path(file)
    absolute = (path if path.is_absolute() else Path.cwd() / path).resolve()
    try:
        relative = absolute.relative_to(root.resolve())
    except ValueError:
        return {"uri": absolute.as_uri()}
    return {"uri": quote(relative.as_posix()), "uriBaseId": SRCROOT}


def _logical(f: Finding) -> list[dict[str, Any]]:
    if not f.endpoints:
        return []
    return [{"fullyQualifiedName": operation(f.endpoints[0]), "kind": "resource"}]


def operation(endpoint: str) -> str:
    """'GET https://host:8443/users/1?x=y' -> 'GET /users/1': what stays the same from one host,
    port and probe to the next. Other endpoint forms ('securitySchemes.key') pass through."""
    method, sep, target = endpoint.partition(" ")
    if not sep or not method.isupper():
        return endpoint
    parts = urlsplit(target)
    return f"{method} {parts.path or '/'}"


def _host(report: Report) -> str:
    return urlsplit(report.target.origin).hostname or "api"


def _category(report: Report, root: Path) -> str:
    """GitHub keeps one analysis per tool and category, so a scan and an audit, or scans of two
    APIs, must not share one: `middlebrick/<host>/` or `middlebrick/audit/<spec>/`."""
    if report.config.get("mode") == "audit" and report.spec and "://" not in report.spec:
        artifact = _artifact(report.spec, root)
        spec = artifact["uri"] if "uriBaseId" in artifact else Path(report.spec).name
        return f"middlebrick/audit/{spec}/"
    return f"middlebrick/{_host(report)}/"


# invocation -------------------------------------------------------------------------------------


def _invocation(report: Report, index: dict[str, int]) -> dict[str, Any]:
    notifications: list[dict[str, Any]] = []
    for run in sorted(report.checks, key=lambda r: r.check_id):
        if run.status in (CheckStatus.ERROR, CheckStatus.INCOMPLETE):
            notifications.append(
                {
                    "level": "error" if run.status is CheckStatus.ERROR else "warning",
                    "message": {
                        "text": f"{run.check_id} {run.status}: {run.reason or 'no reason'}"
                    },
                    "associatedRule": {"id": run.check_id, "index": index[run.check_id]},
                }
            )
    notifications += [{"level": "note", "message": {"text": note}} for note in report.notes]
    invocation: dict[str, Any] = {
        "executionSuccessful": not any(r.status is CheckStatus.ERROR for r in report.checks),
        "startTimeUtc": _utc(report.started_at),
        "endTimeUtc": _utc(report.finished_at),
    }
    if notifications:
        invocation["toolExecutionNotifications"] = notifications
    return invocation


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
