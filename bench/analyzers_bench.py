"""Throughput of the response analyzers (PII, secrets, hashes) on JSON bodies, in MB/s per core.

python -m bench.analyzers_bench
"""

from __future__ import annotations

import json
import random
import statistics
import time

from middlebrick.checks.analyzers.content import scan_body
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


def main() -> None:
    plain = body(3_500)  # just under the 1 MiB body cap the scanner reads
    dense = body(3_000, dense=True)
    for name, payload, run in (
        ("content, typical JSON", plain, lambda: scan_body(plain, is_json=True)),
        ("content, dense JSON", dense, lambda: scan_body(dense, is_json=True)),
        ("content, dense as text", dense, lambda: scan_body(dense, is_json=False)),
        ("traces", plain, lambda: find_trace(plain.decode())),
    ):
        size_mb = len(payload) / 1e6
        times = []
        for _ in range(5):
            started = time.process_time()
            run()
            times.append(time.process_time() - started)
        best = statistics.median(times)
        rate = size_mb / best
        print(f"{name:<22} {size_mb:6.2f} MB in {best * 1000:7.1f} ms CPU = {rate:7.1f} MB/s")


if __name__ == "__main__":
    main()
