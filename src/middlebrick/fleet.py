"""Fleet scans (`middlebrick scan-many targets.yml`): one scan per target listed in a file, a
grade per target.

    defaults:                 # any .middlebrick.yml setting, for every target
      budget: 60
      fail-on: high
    targets:
      - name: orders          # optional; names the target's report directory
        target: https://orders.example.com
        spec: specs/orders.yaml   # relative to this file
        auth_env: ORDERS_AUTH     # credentials only as environment variable names
      - target: https://billing.example.com

A target's own settings win over `defaults`. The whole file is checked before anything is sent:
a typo, a missing variable or two targets with one name stop the run with one line (exit 2).

Locally the scans run in this process, `concurrency` at once, and never two scans of one origin
at once, so a file that lists one API several times cannot multiply the load on it (each scan
keeps its own `rate`). With a broker (`MIDDLEBRICK_BROKER_URL`) the same scans go to Celery
workers.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from middlebrick import project
from middlebrick.config import ScanConfig
from middlebrick.engine import scan
from middlebrick.errors import ConfigError, MiddlebrickError
from middlebrick.model import Report

MAX_TARGETS = 10_000
_NAME = re.compile(r"[^A-Za-z0-9._-]+")


class FleetFile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    defaults: dict[str, Any] = Field(default_factory=dict)
    targets: list[dict[str, Any]] = Field(min_length=1, max_length=MAX_TARGETS)


@dataclass(frozen=True, slots=True)
class FleetTarget:
    name: str
    settings: project.ProjectConfig


@dataclass(frozen=True, slots=True)
class Outcome:
    """One target's result: its report, or why it could not be scanned."""

    name: str
    target: str
    report: Report | None = None
    error: str | None = None
    exit_code: int = 0  # of the error: 2 configuration, 3 the scan could not run


def load(path: Path) -> list[FleetTarget]:
    """The targets of a fleet file, each with its defaults applied and relative spec paths
    made relative to the file; every problem is one `ConfigError` with its place in the file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not valid YAML ({str(exc).strip().splitlines()[0]})") from None
    targets = parse(text, str(path))
    for index, target in enumerate(targets):
        spec = target.settings.spec
        if spec and "://" not in spec:
            settings = target.settings.model_copy(update={"spec": str(path.parent / spec)})
            targets[index] = FleetTarget(target.name, settings)
    return targets


def parse(text: str, where: str) -> list[FleetTarget]:
    """The targets of a fleet file's text, each with its defaults applied (spec paths as
    written); every problem is one `ConfigError` that starts with `where` (the file's name)."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{where}: not valid YAML ({str(exc).strip().splitlines()[0]})") from None
    try:
        fleet = FleetFile.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        place = ".".join(str(p) for p in first["loc"]) or "top level"
        raise ConfigError(f"{where}: {place}: {first['msg']}") from None
    targets: list[FleetTarget] = []
    seen: dict[str, int] = {}
    for index, entry in enumerate(fleet.targets):
        place = f"{where}: targets[{index}]"
        own = dict(entry)
        name = own.pop("name", None)
        if not isinstance(name, str | int | float | None):  # str() of a list can be huge
            raise ConfigError(f"{place}: name: a target's name is text")
        settings = project.parse({**fleet.defaults, **own}, place)
        if not settings.target:
            raise ConfigError(f"{place}: `target` (the API's URL) is missing")
        name = _file_name(str(name) if name is not None else _host(settings.target))
        if name in seen:
            raise ConfigError(
                f"{place}: the name {name!r} is already used by targets[{seen[name]}]; "
                "give each target its own `name`"
            )
        seen[name] = index
        targets.append(FleetTarget(name, settings))
    return targets


def config_for(target: FleetTarget) -> ScanConfig:
    """The scan settings of one target; its credentials read from the environment now."""
    s = target.settings
    defaults = ScanConfig.model_fields
    return ScanConfig(
        target=s.target or "",
        spec=s.spec,
        auth=s.secret(s.auth_env, "auth_env"),
        bearer=s.secret(s.bearer_env, "bearer_env"),
        headers=s.header_values(),
        timeout=s.timeout or defaults["timeout"].default,
        concurrency=s.concurrency or defaults["concurrency"].default,
        rate=s.rate,
        budget=s.budget or defaults["budget"].default,
        unsafe=bool(s.unsafe),
        fail_on=s.fail_on,
        checks=s.checks,
        skip_checks=s.skip,
        suppress=s.suppress,
    )


async def run_local(
    scans: list[tuple[str, ScanConfig]],
    *,
    concurrency: int = 4,
    on_done: Callable[[Outcome], None] = lambda _: None,
) -> list[Outcome]:
    """Scan each target in this process, `concurrency` at once and one at a time per origin;
    the outcomes in the order of `scans`. A target that cannot be scanned does not stop the
    others."""
    slots = asyncio.Semaphore(concurrency)
    origins: dict[str, asyncio.Lock] = {}

    async def one(name: str, config: ScanConfig) -> Outcome:
        lock = origins.setdefault(origin_of(config.target), asyncio.Lock())
        async with lock, slots:
            try:
                outcome = Outcome(name, config.target, report=await scan(config))
            except MiddlebrickError as exc:
                outcome = Outcome(name, config.target, error=str(exc), exit_code=exc.exit_code)
        on_done(outcome)
        return outcome

    return list(await asyncio.gather(*(one(name, config) for name, config in scans)))


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return f"{parts.scheme}://{(parts.hostname or '').lower()}:{port}"


def _host(url: str) -> str:
    """`api.example.com`, `127.0.0.1-8080`, `api.example.com-v2`: host, port and base path."""
    parts = urlsplit(url if "://" in url else f"http://{url}")
    pieces = [parts.hostname or "target", str(parts.port or ""), parts.path.strip("/")]
    return "-".join(p for p in pieces if p)


def _file_name(name: str) -> str:
    cleaned = _NAME.sub("-", name).strip(".-")[:80]
    if not cleaned:
        raise ConfigError(f"the target name {name!r} has no usable characters")
    return cleaned
