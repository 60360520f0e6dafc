"""Scan synthetic APIs of 10, 100 and 1000 operations; print wall time, requests, requests/s, the
scanner's CPU time and peak memory. Each size runs in a fresh child process so peak RSS is its own.

    python -m bench.scan_bench [--sizes 10,100,1000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import resource
import statistics
import subprocess
import sys
import time

from pydantic import SecretStr

from middlebrick.config import ScanConfig
from middlebrick.engine import scan

from bench.synthetic_api import running_api


def one_scan(n: int) -> dict[str, float]:
    with running_api(n) as url:
        config = ScanConfig(
            target=url,
            spec=f"{url}/openapi.json",
            auth=SecretStr("bench:bench-pass"),
            budget=600,
            concurrency=16,
        )
        cpu0, wall0 = time.process_time(), time.perf_counter()
        report = asyncio.run(scan(config))
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "operations": n,
        "wall_s": wall,
        "requests": report.requests_sent,
        "req_per_s": report.requests_sent / wall,
        "cpu_s": cpu,
        "peak_mib": peak_kib / 1024,
        "findings": len(report.findings),
        "grade": report.score.grade,  # type: ignore[dict-item]
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10,100,1000")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(one_scan(args.child)))
        return
    print(
        f"# {platform.node()} · {platform.processor() or platform.machine()} · "
        f"Python {platform.python_version()} · {time.strftime('%Y-%m-%d')}"
    )
    print(f"{'ops':>6} {'wall s':>8} {'requests':>9} {'req/s':>8} {'cpu s':>7} {'peak MiB':>9}")
    for n in (int(s) for s in args.sizes.split(",")):
        runs = []
        for _ in range(args.repeat):
            out = subprocess.run(
                [sys.executable, "-m", "bench.scan_bench", "--child", str(n)],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            runs.append(json.loads(out.strip().splitlines()[-1]))
        med = {
            k: statistics.median(r[k] for r in runs)
            for k in ("wall_s", "requests", "req_per_s", "cpu_s", "peak_mib")
        }
        print(
            f"{n:>6} {med['wall_s']:>8.2f} {med['requests']:>9.0f} {med['req_per_s']:>8.0f} "
            f"{med['cpu_s']:>7.2f} {med['peak_mib']:>9.1f}   (median of {args.repeat})"
        )


if __name__ == "__main__":
    main()
