"""Concrete values for path parameters, so a templated path becomes a URL that can be requested."""

from __future__ import annotations

import re
from typing import Any

_PARAM = re.compile(r"\{([^}/]+)\}")


def fill_path(path: str, parameters: list[dict[str, Any]]) -> str:
    """Replace `{name}` by the parameter's example, default or first enum value, else a sample."""
    by_name = {
        p.get("name"): p for p in parameters if isinstance(p, dict) and p.get("in") == "path"
    }

    def value(match: re.Match[str]) -> str:
        param = by_name.get(match.group(1), {})
        schema = param.get("schema", param) if isinstance(param, dict) else {}
        for source in (param, schema):
            if not isinstance(source, dict):
                continue
            if "example" in source:
                return str(source["example"])
            if "default" in source:
                return str(source["default"])
            if isinstance(source.get("enum"), list) and source["enum"]:
                return str(source["enum"][0])
        kind = schema.get("type") if isinstance(schema, dict) else None
        fmt = schema.get("format") if isinstance(schema, dict) else None
        if fmt == "uuid":
            return "00000000-0000-4000-8000-000000000001"
        if kind in ("integer", "number"):
            return "1"
        return "1" if match.group(1).lower().endswith("id") else "sample"

    return _PARAM.sub(value, path)
