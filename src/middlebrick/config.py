"""What a scan is asked to do: `ScanConfig`, built by every interface and read by the engine."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from middlebrick.errors import ConfigError
from middlebrick.model import Severity
from middlebrick.triage import SuppressRule

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class ScanConfig(BaseModel):
    """Settings of one scan. Credentials are `SecretStr`: they never print or serialise in full."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    target: str
    spec: str | None = None
    auth: SecretStr | None = Field(default=None, description="USER:PASS for HTTP Basic.")
    bearer: SecretStr | None = None
    headers: tuple[tuple[str, SecretStr], ...] = ()
    ca_bundle: Path | None = None
    insecure: bool = False
    timeout: float = Field(default=10.0, gt=0)
    concurrency: int = Field(default=8, ge=1, le=256)
    rate: float | None = Field(default=None, gt=0, description="Requests per second; None: no cap.")
    budget: float = Field(default=60.0, gt=0, description="Seconds for the whole scan.")
    body_cap: int = Field(default=1 << 20, ge=1024, description="Decompressed bytes read per body.")
    unsafe: bool = False
    discover_spec: bool = Field(
        default=True,
        description="Without --spec, look for the API description where APIs publish it.",
    )
    fail_on: Severity | None = None
    suppress: tuple[SuppressRule, ...] = Field(
        default=(), description="Accepted findings, each with a reason (.middlebrick.yml)."
    )
    checks: tuple[str, ...] = Field(default=(), description="Only these check ids; empty: all.")
    skip_checks: tuple[str, ...] = ()
    pin: tuple[tuple[str, tuple[str, ...]], ...] = Field(
        default=(),
        description=(
            "Host -> addresses admitted by a target policy. When set, connections go only to these"
            " addresses and any other host is refused: names are never resolved again."
        ),
    )

    @field_validator("target")
    @classmethod
    def _http_url(cls, value: str) -> str:
        return normalise_target(value)

    @field_validator("pin")
    @classmethod
    def _addresses_only(
        cls, value: tuple[tuple[str, tuple[str, ...]], ...]
    ) -> tuple[tuple[str, tuple[str, ...]], ...]:
        for host, addresses in value:
            if not host or not addresses:
                raise ValueError(f"pin {host!r}: a host and at least one address")
            for address in addresses:
                ipaddress.ip_address(address)  # a name here would be resolved after all
        return value

    @field_validator("auth")
    @classmethod
    def _user_colon_pass(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and ":" not in value.get_secret_value():
            raise ValueError("--auth takes USER:PASS")
        return value

    @property
    def has_credentials(self) -> bool:
        return bool(self.auth or self.bearer or self.headers)

    def allows(self, method: str) -> bool:
        return self.unsafe or method.upper() in SAFE_METHODS

    def public_settings(self) -> dict[str, object]:
        """The settings as written into reports: no credential values, only what kind was given."""
        return {
            "target": self.target,
            "spec": self.spec,
            "credentials": [
                kind
                for kind, given in (
                    ("basic", self.auth),
                    ("bearer", self.bearer),
                    *((f"header:{name}", True) for name, _ in self.headers),
                )
                if given
            ],
            "ca_bundle": str(self.ca_bundle) if self.ca_bundle else None,
            "insecure": self.insecure,
            "timeout": self.timeout,
            "concurrency": self.concurrency,
            "rate": self.rate,
            "budget": self.budget,
            "unsafe": self.unsafe,
            "fail_on": self.fail_on,
            "checks": list(self.checks),
            "skip_checks": list(self.skip_checks),
            "suppress": [rule.model_dump(mode="json") for rule in self.suppress],
        }


def normalise_target(value: str) -> str:
    """Accept `host:port` and `http(s)://host[:port][/base]`; refuse anything that is not HTTP."""
    value = value.strip()
    if "://" not in value:
        value = f"http://{value}"
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError as exc:
        raise ConfigError(f"not a valid URL: {value!r} ({exc})") from None
    if parts.scheme not in ("http", "https"):
        raise ConfigError(
            f"only http:// and https:// targets can be scanned, not {parts.scheme}://"
        )
    if not parts.hostname:
        raise ConfigError(f"the URL has no host: {value!r}")
    if parts.username or parts.password:
        raise ConfigError("put credentials in --auth or MIDDLEBRICK_AUTH, not in the URL")
    host = parts.hostname
    if ":" in host:
        host = f"[{host}]"
    netloc = host if port is None else f"{host}:{port}"
    path = parts.path.rstrip("/")
    return f"{parts.scheme}://{netloc}{path}"


def parse_header(raw: str) -> tuple[str, SecretStr]:
    name, sep, value = raw.partition(":")
    if not sep or not name.strip() or any(c.isspace() for c in name.strip()):
        raise ConfigError(f'--header takes "Name: value", got {raw!r}')
    return name.strip(), SecretStr(value.strip())
