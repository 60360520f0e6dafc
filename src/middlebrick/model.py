"""The data middlebrick produces: severities, categories, findings and the report.

These pydantic models are the contract shared by every interface (CLI, dashboard, MCP, Action) and
every report writer; the JSON report is `Report.model_dump_json()` and its schema is committed as
docs/report.schema.json.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import IntEnum, StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION = "1.0"


class Severity(StrEnum):
    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return _SEVERITY_RANK[self]


_SEVERITY_RANK = {s: i for i, s in enumerate(Severity)}


class Category(StrEnum):
    AUTHENTICATION = "authentication"
    AUTHORIZATION = "authorization"
    ENCRYPTION = "encryption"
    DATA_EXPOSURE = "data_exposure"
    INVENTORY = "inventory"
    CONFIGURATION = "configuration"


class Confidence(IntEnum):
    """How sure the check is that the finding is real, not how bad it is."""

    TENTATIVE = 1
    FIRM = 2
    CERTAIN = 3


class Kind(StrEnum):
    PASSIVE = "passive"
    ACTIVE = "active"
    STATIC = "static"


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Header(_Model):
    name: str
    value: str


class RecordedRequest(_Model):
    method: str
    url: str
    headers: list[Header]
    body: str | None = Field(
        default=None, description="The request body, when one was sent (only with --unsafe)."
    )


class RecordedResponse(_Model):
    status: int
    reason: str
    http_version: str
    headers: list[Header]
    body_excerpt: str = Field(description="Start of the decoded body, masked, at most 2 KiB.")
    body_size: int = Field(description="Bytes of (decompressed) body read.")
    truncated: bool = Field(description="The body was longer than the scanner's cap.")


class ExchangeRecord(_Model):
    """One request the scanner sent and what came back, as written in reports (masked)."""

    id: int
    purpose: str
    request: RecordedRequest
    response: RecordedResponse | None
    error: str | None
    elapsed_ms: float


class Evidence(_Model):
    exchange_id: int | None
    excerpt: str = Field(description="The masked part of the exchange that shows the defect.")


class BaselineState(StrEnum):
    """How a finding compares with the baseline report given by `--baseline`."""

    NEW = "new"
    UNCHANGED = "unchanged"
    FIXED = "fixed"  # in the baseline, gone now (listed in `Report.fixed`)


class Suppression(_Model):
    """Why a finding is accepted (`suppress:` in .middlebrick.yml)."""

    reason: str
    expires: date | None = None


class SpecLocation(_Model):
    """Where an affected operation is written in the spec file given to the scan."""

    file: str
    line: int
    operation: str = Field(description="'METHOD /path/template'")


class Finding(_Model):
    check_id: str
    title: str
    category: Category
    severity: Severity
    confidence: Confidence
    cwe: list[int]
    owasp: str
    detail: str = Field(description="What was seen, in one sentence.")
    endpoints: list[str] = Field(description="Every affected 'METHOD url', deduplicated.")
    evidence: list[Evidence]
    reproduce: str | None = Field(description="A curl command line that shows the defect.")
    remediation: str = Field(description="How to fix it, for the detected framework.")
    framework: str = Field(description="The framework the remediation is written for.")
    locations: list[SpecLocation] = Field(
        default_factory=list,
        description="The affected operations' lines in the spec file, when one was given.",
    )
    fingerprint: str = Field(
        default="",
        description="Stable across runs and hosts: the same defect keeps the same fingerprint.",
    )
    baseline_state: BaselineState | None = Field(
        default=None, description="new or unchanged, when the scan was given a --baseline."
    )
    suppression: Suppression | None = Field(
        default=None, description="Set on the entries of `suppressed`: why it is accepted."
    )


class CheckStatus(StrEnum):
    COMPLETED = "completed"
    NOT_APPLICABLE = "not_applicable"
    INCOMPLETE = "incomplete"
    ERROR = "error"


class CheckRun(_Model):
    """One check of the scan: what it looks for (so a report describes it without the
    registry) and how it ended."""

    check_id: str
    title: str = ""
    category: Category | None = None
    severity: Severity | None = Field(default=None, description="The check's declared severity.")
    cwe: list[int] = Field(default_factory=list)
    owasp: str = ""
    summary: str = Field(default="", description="What the check finds, in a paragraph.")
    status: CheckStatus
    reason: str | None = None
    findings: int = 0
    duration_ms: float = 0.0


class CategoryScore(_Model):
    category: Category
    score: int
    grade: str
    findings: int


class Score(_Model):
    score: int
    grade: Literal["A", "B", "C", "D", "F"]
    categories: list[CategoryScore]


class Coverage(_Model):
    operations_declared: int
    operations_tested: int
    skipped: dict[str, int] = Field(default_factory=dict)


class TargetInfo(_Model):
    url: str
    origin: str
    scanned_origin: str = Field(
        description="The origin scanned (an http target upgraded to https)."
    )
    server: str | None
    framework: str
    auth_schemes: list[str]
    tls: bool


class Report(_Model):
    schema_version: str = SCHEMA_VERSION
    tool: str = "middlebrick"
    tool_version: str
    target: TargetInfo
    spec: str | None
    config: dict[str, object] = Field(description="The scan settings, without credentials.")
    started_at: datetime
    finished_at: datetime
    duration_s: float
    requests_sent: int
    score: Score
    findings: list[Finding]
    checks: list[CheckRun]
    coverage: Coverage
    notes: list[str] = Field(default_factory=list)
    exchanges: list[ExchangeRecord]
    suppressed: list[Finding] = Field(
        default_factory=list,
        description="Findings accepted by a suppression: not scored, never fail the build.",
    )
    fixed: list[Finding] = Field(
        default_factory=list,
        description="Findings of the --baseline report that this scan no longer finds.",
    )

    def findings_at_or_above(self, severity: Severity) -> list[Finding]:
        return [f for f in self.findings if f.severity.rank >= severity.rank]
