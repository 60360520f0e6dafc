"""Where reports go: one format to stdout or `-o FILE`, several to `--output-dir`."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path
from typing import Any

from rich.console import Console

from middlebrick.errors import ConfigError
from middlebrick.model import Report, Severity

BASENAME = "middlebrick"


def check_formats(formats: list[str]) -> list[str]:
    from middlebrick.report import WRITERS

    unknown = [f for f in formats if f not in WRITERS]
    if unknown:
        raise ConfigError(
            f"unknown format {', '.join(unknown)}; choose from {', '.join(sorted(WRITERS))}"
        )
    return list(dict.fromkeys(formats))


def render(report: Report, fmt: str, fail_on: Severity | None = None) -> str:
    from middlebrick.report import WRITERS

    writer: Any = WRITERS[fmt]
    if fail_on is not None and hasattr(writer, "fail_on"):
        writer = dataclasses.replace(writer, fail_on=fail_on)  # JUnit: failures from --fail-on
    return str(writer.render(report))


def emit(
    report: Report,
    formats: list[str],
    *,
    output: Path | None,
    output_dir: Path | None,
    fail_on: Severity | None,
    stderr: Console,
) -> None:
    """Write the report in every format asked for, or refuse before writing anything."""
    from middlebrick.report import WRITERS
    from middlebrick.report.text import show

    formats = check_formats(formats)
    if output is not None and output_dir is not None:
        raise ConfigError("give --output or --output-dir, not both")
    if output is not None and len(formats) > 1:
        raise ConfigError("several formats need --output-dir (one file each), not --output")
    if output is None and output_dir is None and len(formats) > 1:
        raise ConfigError("several formats need --output-dir DIR: stdout takes one")
    if output_dir is not None:
        try:
            output_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"cannot create {output_dir}: {exc.strerror}") from None
        for fmt in formats:
            suffix = ".txt" if fmt == "text" else WRITERS[fmt].suffix
            _write(output_dir / f"{BASENAME}{suffix}", render(report, fmt, fail_on))
        stderr.print(
            f"grade {report.score.grade} ({report.score.score}/100): "
            f"{', '.join(formats)} written to {output_dir}"
        )
    elif output is not None:
        _write(output, render(report, formats[0], fail_on))
        stderr.print(f"report written to {output} (grade {report.score.grade})")
    elif formats[0] == "text":
        show(report, Console(highlight=False))
    else:
        sys.stdout.write(render(report, formats[0], fail_on))


def _write(path: Path, text: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot write {path}: {exc.strerror}") from None


def load_report(path: Path) -> Report:
    """A saved JSON report, or one clear error."""
    from pydantic import ValidationError

    from middlebrick.report.json_writer import load

    try:
        return load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from None
    except (ValueError, ValidationError, UnicodeDecodeError):
        raise ConfigError(f"{path} is not a middlebrick JSON report (-f json)") from None
