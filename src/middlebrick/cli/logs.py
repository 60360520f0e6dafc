"""Diagnostic logging for `--log-level` / `--log-file` (root options: `middlebrick --log-level
debug scan ...`, or `MIDDLEBRICK_LOG_LEVEL`). The report is the product; the log says what the
scanner did (phases, notes, one line per request at debug) and goes to stderr or a file.

What is logged is chosen so that no secret needs hiding: request lines carry query values
masked, never bodies or response headers. The formatter masks anyway, as a second line of
defence for records from other libraries: every credential the user gave (`protect`) and any
`Authorization`-style value, whatever logged it.
"""

from __future__ import annotations

import logging
import re
import sys
from pathlib import Path

from middlebrick.config import ScanConfig
from middlebrick.errors import ConfigError
from middlebrick.http.exchange import Masker, mask_value

LEVELS = ("error", "warning", "info", "debug")
_CREDENTIAL = re.compile(r"\b(Basic|Bearer|Token|Digest)\s+([A-Za-z0-9._~+/=-]{8,})", re.I)


class MaskingFormatter(logging.Formatter):
    """Formats a record, then masks the user's credentials and `Bearer …`-style values in it
    (the message, its arguments and any traceback alike)."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")
        self.masker = Masker()

    def format(self, record: logging.LogRecord) -> str:
        text = self.masker.mask(super().format(record))
        return _CREDENTIAL.sub(lambda m: f"{m.group(1)} {mask_value(m.group(2))}", text)


_FORMATTER = MaskingFormatter()
_INSTALLED: list[logging.Handler] = []


def configure(level: str | None, file: Path | None) -> None:
    """Send middlebrick's records (and aiohttp's) at `level` and above to stderr, or to `file`.
    Without a level nothing is configured: warnings and errors reach the user as one-line
    messages through the CLI, not as log records."""
    if level is None and file is None:
        return
    name = (level or "info").lower()
    if name not in LEVELS:
        raise ConfigError(f"--log-level takes one of {', '.join(LEVELS)}, not {level!r}")
    try:
        handler: logging.Handler = (
            logging.FileHandler(file, encoding="utf-8")
            if file
            else logging.StreamHandler(sys.stderr)
        )
    except OSError as exc:
        raise ConfigError(f"cannot write the log file {file}: {exc.strerror}") from None
    handler.setFormatter(_FORMATTER)
    for old in _INSTALLED:  # a second run in one process (tests, the Action) replaces the first
        old.close()
    for logger_name in ("middlebrick", "aiohttp"):
        logger = logging.getLogger(logger_name)
        for old in _INSTALLED:
            logger.removeHandler(old)
        logger.setLevel(name.upper())
        logger.addHandler(handler)
        logger.propagate = False
    _INSTALLED[:] = [handler]


def protect(config: ScanConfig) -> None:
    """Mask the credentials of `config` in every log record from now on."""
    if config.auth:
        _FORMATTER.masker.add_basic(config.auth.get_secret_value())
    if config.bearer:
        _FORMATTER.masker.add(config.bearer.get_secret_value())
    for _, value in config.headers:
        _FORMATTER.masker.add(value.get_secret_value())
