"""The GitHub Action's run step (`python -m middlebrick.action`), kept here so that tests run it
locally with the `GITHUB_*` variables a runner sets.

Reads the action's inputs from `MB_*` variables (action.yml maps them), scans with the CLI,
writes every report to the output directory, appends the Markdown summary to
`$GITHUB_STEP_SUMMARY`, and sets the step outputs `grade`, `score`, `sarif-file`, `report-dir`
and `exit-code` in `$GITHUB_OUTPUT`. It exits 0 even when the gate fails, so that the SARIF
upload step still runs; the action's last step fails the job with `exit-code`.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

REPORT_FORMATS = ("json", "sarif", "markdown")


def arguments(env: Mapping[str, str], out: Path) -> list[str]:
    """The `middlebrick` command line the inputs ask for."""
    command = "audit" if env.get("MB_COMMAND") == "audit" else "scan"
    args = [command]
    if command == "scan":
        if env.get("MB_URL"):
            args.append(env["MB_URL"])
        if env.get("MB_SPEC"):
            args += ["--spec", env["MB_SPEC"]]
        args.append("--quiet")
    elif env.get("MB_SPEC"):
        args.append(env["MB_SPEC"])
    for option, name in (
        ("--fail-on", "MB_FAIL_ON"),
        ("--min-grade", "MB_MIN_GRADE"),
        ("--config", "MB_CONFIG"),
        ("--baseline", "MB_BASELINE"),
    ):
        if env.get(name):
            args += [option, env[name]]
    extra = [f.strip() for f in env.get("MB_FORMAT", "").replace(",", " ").split() if f.strip()]
    for fmt in dict.fromkeys([*REPORT_FORMATS, *extra]):
        args += ["--format", fmt]
    args += ["--output-dir", str(out)]
    return args + shlex.split(env.get("MB_ARGS", ""))


def run(env: Mapping[str, str]) -> int:
    """Run the scan as the inputs say; return the CLI's exit code."""
    out = Path(env.get("MB_OUTPUT_DIR") or "middlebrick-report")
    command = [sys.executable, "-m", "middlebrick", *arguments(env, out)]
    code = subprocess.run(command, env=dict(env), check=False).returncode  # noqa: S603
    outputs = {"exit-code": str(code), "report-dir": str(out)}
    report = out / "middlebrick.json"
    if report.is_file():
        summary = json.loads(report.read_text(encoding="utf-8"))["score"]
        outputs |= {
            "grade": summary["grade"],
            "score": str(summary["score"]),
            "sarif-file": str(out / "middlebrick.sarif"),
        }
        markdown = out / "middlebrick.md"
        if env.get("GITHUB_STEP_SUMMARY") and markdown.is_file():
            with open(env["GITHUB_STEP_SUMMARY"], "a", encoding="utf-8") as summary_file:
                summary_file.write(markdown.read_text(encoding="utf-8") + "\n")
    if env.get("GITHUB_OUTPUT"):
        with open(env["GITHUB_OUTPUT"], "a", encoding="utf-8") as output_file:
            for name, value in outputs.items():
                output_file.write(f"{name}={value}\n")
    return code


def main() -> None:
    code = run(os.environ)
    if code not in (0, 1):  # the scan could not run or was misconfigured: fail the step now
        raise SystemExit(code)


if __name__ == "__main__":
    main()
