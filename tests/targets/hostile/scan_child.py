"""Run one scan in this fresh process and print how it went as one JSON line on stdout.

    python tests/targets/hostile/scan_child.py < settings.json

Input: `ScanConfig` keyword arguments. Output: `report` (the JSON report) or `error` and
`exit_code` (a `MiddlebrickError`), `wall_s` (the scan alone, from `scan()` called to returned),
`rss_before_mib` (peak RSS once everything is imported) and `peak_rss_mib` (peak RSS when the
scan has returned) of this process only: the servers live in the test's process.

Peak RSS is the kernel's high-water mark of this address space (`VmHWM`). `ru_maxrss` would not
do: Linux carries it across `fork` and `exec`, so a child of a large test process would report
its parent's size.
"""

from __future__ import annotations

import asyncio
import json
import resource
import sys
import time

from middlebrick.config import ScanConfig
from middlebrick.engine import scan
from middlebrick.errors import MiddlebrickError


def _peak_mib() -> float:
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def main() -> None:
    config = ScanConfig(**json.load(sys.stdin))
    out: dict[str, object] = {"rss_before_mib": _peak_mib()}
    started = time.monotonic()
    try:
        report = asyncio.run(scan(config))
    except MiddlebrickError as exc:
        out.update(error=f"{type(exc).__name__}: {exc}", exit_code=exc.exit_code)
    else:
        out["report"] = report
    out["wall_s"] = time.monotonic() - started
    out["peak_rss_mib"] = _peak_mib()
    if "report" in out:
        out["report"] = report.model_dump(mode="json")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
