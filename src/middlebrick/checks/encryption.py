"""Encryption: is the API reachable only over TLS, told to stay there, and is the TLS sound."""

from __future__ import annotations

from middlebrick.checks._check import Check

CHECKS: tuple[Check, ...] = ()
