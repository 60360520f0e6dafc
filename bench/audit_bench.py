"""Time `middlebrick audit` on descriptions of 100, 1,000 and 10,000 operations.

python -m bench.audit_bench
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from pathlib import Path

from middlebrick.engine import audit


def description(n: int) -> dict[str, object]:
    paths: dict[str, object] = {}
    for i in range(n):
        op: dict[str, object] = {
            "parameters": [{"name": "id", "in": "path", "schema": {"type": "integer"}}],
            "responses": {
                "200": {
                    "description": "ok",
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Item"}}
                    },
                }
            },
        }
        if i % 3:
            op["security"] = [{"basic": []}]
        paths[f"/items{i}/{{id}}"] = {"get": op}
    return {
        "openapi": "3.0.3",
        "info": {"title": "bench", "version": "1"},
        "components": {
            "securitySchemes": {"basic": {"type": "http", "scheme": "basic"}},
            "schemas": {"Item": {"type": "object", "properties": {"id": {"type": "integer"}}}},
        },
        "paths": paths,
    }


def main() -> None:
    print(f"{'operations':>10} {'audit s':>8} {'findings':>9}")
    with tempfile.TemporaryDirectory() as tmp:
        for n in (100, 1_000, 10_000):
            path = Path(tmp) / f"spec{n}.json"
            path.write_text(json.dumps(description(n)))
            runs = []
            for _ in range(3):
                started = time.perf_counter()
                report = audit(str(path))
                runs.append(time.perf_counter() - started)
            print(f"{n:>10} {statistics.median(runs):>8.3f} {len(report.findings):>9}")


if __name__ == "__main__":
    main()
