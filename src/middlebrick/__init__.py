"""middlebrick: an API security scanner.

import asyncio, middlebrick
report = asyncio.run(middlebrick.scan(middlebrick.ScanConfig(target="https://api.example.com")))
print(report.score.grade, [f.check_id for f in report.findings])
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from middlebrick.config import ScanConfig
    from middlebrick.engine import scan
    from middlebrick.errors import ConfigError, MiddlebrickError, SpecError, TargetError
    from middlebrick.model import Category, Finding, Report, Severity

# Loaded on first use, so `import middlebrick.model` (or `middlebrick --version`) does not pay for
# the engine and its HTTP client.
_HOMES = {
    "Category": "middlebrick.model",
    "ConfigError": "middlebrick.errors",
    "Finding": "middlebrick.model",
    "MiddlebrickError": "middlebrick.errors",
    "Report": "middlebrick.model",
    "ScanConfig": "middlebrick.config",
    "Severity": "middlebrick.model",
    "SpecError": "middlebrick.errors",
    "TargetError": "middlebrick.errors",
    "scan": "middlebrick.engine",
}

__all__ = [
    "Category",
    "ConfigError",
    "Finding",
    "MiddlebrickError",
    "Report",
    "ScanConfig",
    "Severity",
    "SpecError",
    "TargetError",
    "__version__",
    "scan",
]


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        return getattr(import_module(_HOMES[name]), name)
    raise AttributeError(f"module 'middlebrick' has no attribute {name!r}")
