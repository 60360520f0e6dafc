"""middlebrick: an API security scanner.

import asyncio, middlebrick
report = asyncio.run(middlebrick.scan(middlebrick.ScanConfig(target="https://api.example.com")))
print(report.score.grade, [f.check_id for f in report.findings])
"""

from __future__ import annotations

__version__ = "0.1.0"

from middlebrick.config import ScanConfig
from middlebrick.engine import scan
from middlebrick.errors import (
    ConfigError,
    MiddlebrickError,
    SpecError,
    TargetError,
)
from middlebrick.model import Category, Finding, Report, Severity

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
