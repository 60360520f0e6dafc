"""The exceptions middlebrick raises, and the exit code each one means.

    MiddlebrickError          base class; never raised itself
    ├── ConfigError           bad option, bad URL, unreadable file          exit 2
    ├── TargetError           the scan could not run: DNS, refused          exit 3
    │   │                     connection, TLS failure, timeout, not HTTP
    │   └── SpecError         the OpenAPI document could not be loaded      exit 3
    └── ScopeViolation        a check asked the engine for a request the    exit 70
                              safety rules forbid; a bug, never the user's

Errors are raised with context and caught only at the boundaries (CLI, dashboard, MCP), where they
become one line of text and the exit code. A check's exception never leaves the check runner: it
becomes a CheckRun with status "error".
"""

from __future__ import annotations


class MiddlebrickError(Exception):
    """Base class of every error middlebrick raises on purpose."""

    exit_code: int = 3


class ConfigError(MiddlebrickError):
    """The user asked for something that cannot be done as asked."""

    exit_code = 2


class TargetError(MiddlebrickError):
    """The target could not be scanned at all."""

    exit_code = 3


class SpecError(TargetError):
    """The API description could not be read or parsed."""


class ScopeViolation(MiddlebrickError):
    """A check tried to leave the target's origin or send an unsafe method: a bug."""

    exit_code = 70
