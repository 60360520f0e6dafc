"""`.middlebrick.yml`: a project's scan settings, kept beside its code and read by every run.

Credentials are never written in it, only the names of the environment variables that hold
them (`auth_env: API_BASIC`); CI secrets fill those. Options given on the command line win over
the file. Unknown keys are errors, so a misspelt `fail-on` does not silently do nothing.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from middlebrick.errors import ConfigError
from middlebrick.model import Severity
from middlebrick.triage import SuppressRule

FILE_NAME = ".middlebrick.yml"
_CREDENTIAL_KEYS = ("auth", "bearer", "password", "token", "headers", "api_key")


class ProjectConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    target: str | None = None
    spec: str | None = None
    auth_env: str | None = Field(default=None, description="Env var holding USER:PASS.")
    bearer_env: str | None = Field(default=None, description="Env var holding a bearer token.")
    headers_env: dict[str, str] = Field(
        default_factory=dict, description="Header name -> env var holding its value."
    )
    timeout: float | None = None
    concurrency: int | None = None
    rate: float | None = None
    budget: float | None = None
    unsafe: bool | None = None
    checks: tuple[str, ...] = ()
    skip: tuple[str, ...] = ()
    fail_on: Severity | None = Field(default=None, alias="fail-on")
    min_grade: Literal["A", "B", "C", "D", "F"] | None = Field(default=None, alias="min-grade")
    format: tuple[str, ...] = ()
    output_dir: str | None = Field(default=None, alias="output-dir")
    baseline: str | None = None
    suppress: tuple[SuppressRule, ...] = ()

    def secret(self, variable: str | None, what: str) -> SecretStr | None:
        """The value of the environment variable the file names for `what`, if it names one."""
        if variable is None:
            return None
        value = os.environ.get(variable)
        if not value:
            raise ConfigError(f"{FILE_NAME}: {what} names ${variable}, which is not set")
        return SecretStr(value)

    def header_values(self) -> tuple[tuple[str, SecretStr], ...]:
        return tuple(
            (name, value)
            for name, variable in self.headers_env.items()
            if (value := self.secret(variable, f"header {name}")) is not None
        )


def find(start: Path) -> Path | None:
    """`.middlebrick.yml` in `start` (the working directory) — not its parents: a config found
    far up the tree would surprise more than help."""
    candidate = start / FILE_NAME
    return candidate if candidate.is_file() else None


def load(path: Path) -> ProjectConfig:
    """Read and validate the file; every problem is one `ConfigError` line with its location."""
    try:
        text = path.read_text(encoding="utf-8")
        data = yaml.safe_load(text) if text.strip() else {}
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from None
    except (UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: not valid YAML ({_first_line(exc)})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of settings at the top level")
    return parse(data, str(path))


def parse(data: dict[str, object], where: str) -> ProjectConfig:
    """Validate settings read from a file (`where` names the place in errors)."""
    for key in _CREDENTIAL_KEYS:
        if key in data:
            raise ConfigError(
                f"{where}: `{key}` would put a credential in the file; name the environment "
                f"variable that holds it instead (auth_env, bearer_env, headers_env)"
            )
    data = {str(k).replace("_", "-") if str(k) in _DASHED else str(k): v for k, v in data.items()}
    try:
        return ProjectConfig.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"{where}: {field}: {first['msg']}") from None


_DASHED = ("fail_on", "min_grade", "output_dir")


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
