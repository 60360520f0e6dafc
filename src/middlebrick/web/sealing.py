"""Secrets the dashboard must keep to use later — the credentials of a scan a worker on another
machine will run, of a scheduled scan, a webhook's signing secret — sealed with Fernet
(AES-128-CBC + HMAC-SHA256, `cryptography`) under a key from the environment:

    MIDDLEBRICK_SECRET_KEY=<Fernet key>[,<older key>…]

Generate a key with `middlebrick serve --new-key`. The first key seals; every key opens, so a key
is rotated by putting the new one first and re-saving. The key never reaches the database, a
task's payload or a log; without it nothing can be sealed, and the dashboard says so when a
feature needs it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from middlebrick.errors import ConfigError

ENV_VAR = "MIDDLEBRICK_SECRET_KEY"


def new_key() -> str:
    return Fernet.generate_key().decode()


@dataclass(frozen=True, slots=True)
class Sealer:
    _fernet: MultiFernet

    @classmethod
    def from_keys(cls, keys: str) -> Sealer:
        parts = [k.strip() for k in keys.split(",") if k.strip()]
        if not parts:
            raise ConfigError(f"{ENV_VAR} is empty")
        try:
            return cls(MultiFernet([Fernet(k) for k in parts]))
        except ValueError:
            raise ConfigError(
                f"{ENV_VAR} must hold Fernet keys (32 url-safe base64-encoded bytes each); "
                "generate one with `middlebrick serve --new-key`"
            ) from None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Sealer | None:
        """The sealer of `MIDDLEBRICK_SECRET_KEY`, or None when it is not set."""
        keys = (os.environ if environ is None else environ).get(ENV_VAR, "")
        return cls.from_keys(keys) if keys.strip() else None

    def seal(self, value: Mapping[str, Any]) -> str:
        return self._fernet.encrypt(json.dumps(dict(value)).encode()).decode()

    def open(self, sealed: str) -> dict[str, Any]:
        """The sealed value; `ConfigError` when no key opens it (rotated away, or tampered)."""
        try:
            value = json.loads(self._fernet.decrypt(sealed.encode()))
        except InvalidToken:
            raise ConfigError(
                f"a stored secret cannot be opened with the keys in {ENV_VAR} "
                "(was the key changed without keeping the old one after it?)"
            ) from None
        if not isinstance(value, dict):
            raise ConfigError("a stored secret is not what the dashboard sealed")
        return value


def required(sealer: Sealer | None, what: str) -> Sealer:
    """`sealer`, or a `ConfigError` saying that `what` needs the key."""
    if sealer is None:
        raise ConfigError(
            f"{what} needs {ENV_VAR} (a Fernet key, `middlebrick serve --new-key` makes one) "
            "to keep secrets encrypted at rest"
        )
    return sealer
