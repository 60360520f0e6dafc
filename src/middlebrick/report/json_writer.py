"""The JSON report: the `Report` model as is, versioned by `schema_version`.

The format is documented in docs/report-format.md.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from middlebrick.model import Report


@dataclass(frozen=True, slots=True)
class JsonWriter:
    name: str = "json"
    suffix: str = ".json"

    def render(self, report: Report) -> str:
        return report.model_dump_json(indent=2) + "\n"


WRITER = JsonWriter()


def schema() -> dict[str, Any]:
    """The JSON Schema of the report, committed as docs/report.schema.json."""
    return Report.model_json_schema()


def load(text: str) -> Report:
    return Report.model_validate(json.loads(text))
