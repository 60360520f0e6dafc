"""Report writers: each turns a `Report` into one format. `WRITERS[name].render(report) -> str`."""

from __future__ import annotations

from typing import Protocol

from middlebrick.model import Report
from middlebrick.report import html, json_writer, junit, markdown, sarif, text


class Writer(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def suffix(self) -> str: ...

    def render(self, report: Report) -> str: ...


WRITERS: dict[str, Writer] = {
    "text": text.WRITER,
    "json": json_writer.WRITER,
    "sarif": sarif.WRITER,
    "junit": junit.WRITER,
    "html": html.WRITER,
    "markdown": markdown.WRITER,
}
