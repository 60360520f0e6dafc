"""The new-scan form: what it shows again after an error (never a credential) and how its fields
become a scan's public settings, its uploaded description and its in-memory credentials."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from pydantic import SecretStr
from starlette.datastructures import FormData, UploadFile

from middlebrick.checks import ALL, BY_ID
from middlebrick.checks._check import Check
from middlebrick.config import normalise_target
from middlebrick.errors import ConfigError
from middlebrick.model import Category
from middlebrick.web.jobs import Credentials

MIN_BUDGET, DEFAULT_BUDGET, MAX_BUDGET = 5, 60, 900  # seconds
MAX_RATE = 1000.0
MAX_SPEC_BYTES = 10 << 20
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # an RFC 9110 token
_SAFE_FILENAME = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True, slots=True)
class ScanForm:
    """What the new-scan form shows again after an error: never a credential."""

    target: str = ""
    spec_url: str = ""
    budget: str = str(DEFAULT_BUDGET)
    rate: str = ""
    checks: frozenset[str] = field(default_factory=lambda: frozenset(BY_ID))


@dataclass(frozen=True, slots=True)
class Submission:
    target: str
    settings: dict[str, Any]
    spec_text: str | None
    credentials: Credentials | None


def check_groups() -> list[tuple[Category, list[Check]]]:
    groups: dict[Category, list[Check]] = {}
    for check in ALL:
        groups.setdefault(check.category, []).append(check)
    return list(groups.items())


def text_of(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def shown_url(value: str) -> str:
    """A URL as the form may show it again: not one that carries credentials."""
    try:
        parts = urlsplit(value if "://" in value else f"http://{value}")
    except ValueError:
        return ""
    return "" if parts.username or parts.password else value


def _url(value: str, what: str) -> str:
    try:
        parts = urlsplit(value if "://" in value else f"http://{value}")
    except ValueError:
        parts = None
    if parts is not None and (parts.username or parts.password):
        raise ConfigError(f"put credentials in the credentials fields, not in the {what} URL")
    return normalise_target(value)


async def parse_submission(form: FormData) -> Submission:
    """The scan the form asks for, or `ConfigError` with a message that quotes no secret."""
    target = _url(text_of(form, "target"), "target")
    spec_text, spec_name = await _spec_file(form.get("spec_file"))
    spec_url = text_of(form, "spec_url")
    if spec_text is not None and spec_url:
        raise ConfigError("give the API description as a file or as a URL, not both")
    if spec_url:
        spec_url = _url(spec_url, "description")
    budget = _number(text_of(form, "budget") or str(DEFAULT_BUDGET), "the time budget")
    if not MIN_BUDGET <= budget <= MAX_BUDGET:
        raise ConfigError(f"the time budget must be {MIN_BUDGET}-{MAX_BUDGET} seconds")
    rate = _number(text_of(form, "rate"), "the request rate") if text_of(form, "rate") else None
    if rate is not None and not 0 < rate <= MAX_RATE:
        raise ConfigError(f"the request rate must be above 0 and at most {MAX_RATE:g} per second")
    chosen = [v for v in form.getlist("checks") if isinstance(v, str)]
    if not chosen:
        raise ConfigError("select at least one check")
    unknown = [v for v in chosen if v not in BY_ID]
    if unknown:
        raise ConfigError(f"unknown check: {unknown[0][:40]}")
    checks = [] if set(chosen) == set(BY_ID) else [c.id for c in ALL if c.id in set(chosen)]
    credentials = _credentials(form)
    settings: dict[str, Any] = {
        "spec": spec_name or spec_url or None,  # a file's text goes to the store on its own
        "budget": budget,
        "rate": rate,
        "checks": checks,
        "credentials": credentials.kinds() if credentials else [],
    }
    return Submission(target, settings, spec_text, credentials)


def _number(value: str, what: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise ConfigError(f"{what} must be a number") from None
    if not math.isfinite(number):
        raise ConfigError(f"{what} must be a number")
    return number


async def _spec_file(upload: object) -> tuple[str | None, str | None]:
    if not isinstance(upload, UploadFile) or not upload.filename:
        return None, None
    data = await upload.read(MAX_SPEC_BYTES + 1)
    if not data:
        return None, None
    if len(data) > MAX_SPEC_BYTES:
        raise ConfigError(f"the API description is larger than {MAX_SPEC_BYTES >> 20} MiB")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ConfigError("the API description must be UTF-8 text (JSON or YAML)") from None
    name = _SAFE_FILENAME.sub("_", upload.filename.rsplit("/", 1)[-1].rsplit("\\", 1)[-1])
    return text, name[:100] or "spec"


def _credentials(form: FormData) -> Credentials | None:
    auth, bearer, header = (text_of(form, name) for name in ("auth", "bearer", "header"))
    if auth and ":" not in auth:
        raise ConfigError("HTTP Basic credentials are written user:password")
    headers: tuple[tuple[str, SecretStr], ...] = ()
    if header:
        name, sep, value = header.partition(":")
        if not sep or not _HEADER_NAME.fullmatch(name.strip()) or not value.strip():
            raise ConfigError("the header is written Name: value (the name is one word)")
        headers = ((name.strip(), SecretStr(value.strip())),)
    if not (auth or bearer or headers):
        return None
    return Credentials(
        auth=SecretStr(auth) if auth else None,
        bearer=SecretStr(bearer) if bearer else None,
        headers=headers,
    )
