"""The REST API's request and response bodies, as its OpenAPI document describes them."""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from middlebrick.checks import ALL, BY_ID
from middlebrick.web.api.problems import MAX_BODY_BYTES
from middlebrick.web.jobs import Credentials
from middlebrick.web.store import ScanSettings, ScanStatus

MIN_BUDGET, DEFAULT_BUDGET, MAX_BUDGET = 5.0, 60.0, 900.0
MAX_RATE = 1000.0
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}")  # an RFC 9110 token


def known_checks(value: list[str]) -> list[str]:
    """Check ids in registry order; an unknown one is an error (quoted, cut short)."""
    unknown = [c for c in value if c not in BY_ID]
    if unknown:
        raise ValueError(f"unknown check id {unknown[0][:40]!r}")
    chosen = set(value)
    return [c.id for c in ALL if c.id in chosen]


class ReportFormat(StrEnum):
    JSON = "json"
    SARIF = "sarif"
    HTML = "html"
    JUNIT = "junit"
    MARKDOWN = "markdown"


MEDIA_TYPES = {
    ReportFormat.JSON: "application/json",
    ReportFormat.SARIF: "application/sarif+json",
    ReportFormat.HTML: "text/html; charset=utf-8",
    ReportFormat.JUNIT: "application/xml",
    ReportFormat.MARKDOWN: "text/markdown; charset=utf-8",
}


class ScanCredentials(BaseModel):
    """What the scan authenticates with: used for this one scan, held in memory until it runs,
    never stored and never sent back. A scan still queued when the dashboard restarts cannot
    run without them and is marked interrupted."""

    model_config = ConfigDict(extra="forbid")

    basic: SecretStr | None = Field(
        default=None, max_length=4096, description="USER:PASS for HTTP Basic."
    )
    bearer: SecretStr | None = Field(default=None, max_length=8192, description="A bearer token.")
    headers: dict[str, SecretStr] = Field(
        default_factory=dict, max_length=20, description="Extra headers, name to value."
    )

    @field_validator("basic")
    @classmethod
    def _user_colon_pass(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and ":" not in value.get_secret_value():
            raise ValueError("HTTP Basic credentials are written USER:PASS")
        return value

    @field_validator("headers")
    @classmethod
    def _header_names(cls, value: dict[str, SecretStr]) -> dict[str, SecretStr]:
        if not all(_HEADER_NAME.fullmatch(name) for name in value):
            raise ValueError("a header name is one word of letters, digits and -_.!#$%&'*+^`|~")
        return value

    def for_runner(self) -> Credentials | None:
        if not (self.basic or self.bearer or self.headers):
            return None
        return Credentials(auth=self.basic, bearer=self.bearer, headers=tuple(self.headers.items()))


class ScanRequest(BaseModel):
    """A scan to run. The API description is optional: a URL (`spec_url`) or the document itself
    (`spec_text`); without either, the scanner looks where APIs usually publish one."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    target: str = Field(
        max_length=2048,
        description="Base URL of the API to scan.",
        examples=["https://api.example.com/v1"],
    )
    spec_url: str | None = Field(default=None, max_length=2048)
    spec_text: str | None = Field(
        default=None, min_length=1, max_length=MAX_BODY_BYTES, description="JSON or YAML."
    )
    spec_name: str | None = Field(
        default=None,
        max_length=100,
        description="The file name `spec_text` is reported under (its suffix tells JSON or YAML).",
    )
    budget: float = Field(
        default=DEFAULT_BUDGET, ge=MIN_BUDGET, le=MAX_BUDGET, description="Seconds for the scan."
    )
    rate: float | None = Field(
        default=None, gt=0, le=MAX_RATE, description="Requests per second at most."
    )
    checks: list[str] = Field(
        default_factory=list, max_length=len(ALL), description="Only these check ids; empty: all."
    )
    credentials: ScanCredentials | None = None

    @field_validator("checks")
    @classmethod
    def _known_checks(cls, value: list[str]) -> list[str]:
        return known_checks(value)

    @model_validator(mode="after")
    def _one_spec(self) -> ScanRequest:
        if self.spec_url is not None and self.spec_text is not None:
            raise ValueError("give spec_url or spec_text, not both")
        return self


class Progress(BaseModel):
    done: int = Field(description="Checks finished.")
    total: int = Field(description="Checks to run (0 until the scan starts).")


class ScanOut(BaseModel):
    """A scan: where it stands and, once done, its score and grade."""

    id: str
    status: ScanStatus
    target_id: int
    target_url: str
    settings: ScanSettings = Field(description="Public settings only: no credential value.")
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    progress: Progress
    score: int | None
    grade: str | None
    counts: dict[str, int] = Field(description="Findings per severity, once done.")
    error: str | None = Field(description="Why it failed, was interrupted or cancelled.")
    url: str = Field(description="This scan in the API.")
    report_url: str | None = Field(description="The report (`?format=`), once done.")
    page_url: str = Field(description="This scan in the dashboard.")


class TargetOut(BaseModel):
    """An API the user scans, with its latest finished scan."""

    id: int
    url: str
    created_at: datetime
    scans: int
    latest_scan_id: str | None
    latest_grade: str | None
    latest_score: int | None
    badge_url: str = Field(description="The public status badge (SVG) for a README.")
    scans_url: str
