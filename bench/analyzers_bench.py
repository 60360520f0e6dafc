"""Throughput of the response analyzers (PII, secrets, hashes) on JSON bodies, in MB/s per core.

python -m bench.analyzers_bench [--runs N] [--baseline path/to/old/content.py]

`--baseline` times another implementation of `scan_body` in the same run (for instance the one
before a change, `git show REV:src/middlebrick/checks/analyzers/content.py > /tmp/old.py`), so
that the two are compared on the same machine state: machines here are noisy.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

from middlebrick.checks.analyzers import content
from middlebrick.checks.analyzers.traces import find_trace


def body(records: int, *, dense: bool = False) -> bytes:
    """Benign API rows; `dense` adds an e-mail and a 16-digit id to every row (worst case: every
    value must be walked)."""
    rng = random.Random(7)
    rows = [
        {
            **(
                {"email": f"user{i}@corp.test", "ref": f"{rng.randrange(10**15, 10**16)}"}
                if dense
                else {}
            ),
            "id": rng.randrange(10**12),
            "uuid": f"{rng.getrandbits(128):032x}",
            "name": f"user {i}",
            "note": "lorem ipsum dolor sit amet " * 3,
            "created_at": "2026-11-28T10:00:00Z",
            "score": rng.random(),
            "tags": ["a", "b", "c"],
        }
        for i in range(records)
    ]
    return json.dumps(rows).encode()


def cpu_seconds(run: Callable[[], object], runs: int) -> float:
    """Median CPU time of `runs` calls, after one to warm up."""
    run()
    times = []
    for _ in range(runs):
        started = time.process_time()
        run()
        times.append(time.process_time() - started)
    return statistics.median(times)


def _load(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("baseline_content", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=11)
    parser.add_argument("--baseline", type=Path)
    args = parser.parse_args()
    plain = body(3_500)  # just under the 1 MiB body cap the scanner reads
    dense = body(3_000, dense=True)
    cases = [
        ("typical JSON", plain, True),
        ("dense JSON", dense, True),
        ("dense as text", dense, False),
    ]
    analyzers = [("content", content)]
    if args.baseline:
        analyzers.insert(0, ("baseline", _load(args.baseline)))
    rates: dict[tuple[str, str], float] = {}
    for case, payload, is_json in cases:
        for label, module in analyzers:
            scan = module.scan_body
            best = cpu_seconds(lambda s=scan, p=payload, j=is_json: s(p, j), args.runs)
            rates[label, case] = len(payload) / 1e6 / best
            print(
                f"{label + ', ' + case:<26} {len(payload) / 1e6:5.2f} MB in "
                f"{best * 1000:7.1f} ms CPU = {rates[label, case]:7.1f} MB/s"
            )
    text = plain.decode()
    best = cpu_seconds(lambda: find_trace(text), args.runs)
    print(
        f"{'traces':<26} {len(plain) / 1e6:5.2f} MB in {best * 1000:7.1f} ms CPU = "
        f"{len(plain) / 1e6 / best:7.1f} MB/s"
    )
    if args.baseline:
        for case, _, _ in cases:
            print(f"speed-up, {case:<16} {rates['content', case] / rates['baseline', case]:6.1f}x")


if __name__ == "__main__":
    main()
