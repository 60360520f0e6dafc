"""The GitHub Action: action.yml's scan step is run as a runner would run it — its `env` mapping
filled from the inputs, its `run` script in bash, with GITHUB_OUTPUT and GITHUB_STEP_SUMMARY —
against a real API on loopback."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from middlebrick.action import arguments
from middlebrick.demo.server import serve

from targets.headers import leaky_flask

ROOT = Path(__file__).parents[2]
ACTION = yaml.safe_load((ROOT / "action.yml").read_text())


@pytest.fixture(scope="module")
def api() -> Iterator[str]:
    with serve(leaky_flask()) as served:
        yield served.url


def _step(step_id: str) -> dict[str, Any]:
    return next(s for s in ACTION["runs"]["steps"] if s.get("id") == step_id)


def run_scan_step(inputs: dict[str, str], tmp_path: Path) -> tuple[int, dict[str, str], str]:
    """Expand the step's `${{ inputs.* }}` and `${{ runner.temp }}`, run it; return its exit code,
    the outputs it set and the job summary it wrote."""
    step = _step("scan")
    defaults = {name: str(spec.get("default", "")) for name, spec in ACTION["inputs"].items()}
    values = {**defaults, **inputs}

    def expand(text: str) -> str:
        text = text.replace("${{ runner.temp }}", str(tmp_path))
        return re.sub(r"\$\{\{ inputs\.([\w-]+) \}\}", lambda m: values[m.group(1)], text)

    output, summary = tmp_path / "output", tmp_path / "summary.md"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("MB_", "GITHUB_"))},
        **{name: expand(str(value)) for name, value in step["env"].items()},
        "GITHUB_OUTPUT": str(output),
        "GITHUB_STEP_SUMMARY": str(summary),
        # the runner's python is the one the action installed middlebrick into
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
    }
    done = subprocess.run(
        ["bash", "-c", step["run"]],
        check=False,
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    outputs = (
        dict(line.split("=", 1) for line in output.read_text().splitlines() if "=" in line)
        if output.exists()
        else {}
    )
    return done.returncode, outputs, summary.read_text() if summary.exists() else ""


def test_every_input_reaches_the_scan_step() -> None:
    env = _step("scan")["env"]
    mapped = {m for v in env.values() for m in re.findall(r"inputs\.([\w-]+)", str(v))}
    assert mapped == set(ACTION["inputs"]) - {"upload-sarif", "python-version"}
    assert set(ACTION["outputs"]) >= {"grade", "score", "sarif-file"}
    assert _step("scan")["run"].strip() == "python -m middlebrick.action"


def test_scan_step_sets_outputs_summary_and_reports(api: str, tmp_path: Path) -> None:
    code, outputs, summary = run_scan_step({"url": api, "fail-on": "high"}, tmp_path)
    assert code == 0  # the step passes so the SARIF upload runs; the gate step fails the job
    assert outputs["exit-code"] == "1"
    assert outputs["grade"] == "D"
    assert outputs["score"] == "69"
    sarif = json.loads(Path(outputs["sarif-file"]).read_text())
    assert sarif["version"] == "2.1.0"
    assert "MB-DATA-002" in {r["ruleId"] for r in sarif["runs"][0]["results"]}
    assert "MB-DATA-002" in summary
    assert sorted(p.name for p in Path(outputs["report-dir"]).iterdir()) == [
        "middlebrick.html",
        "middlebrick.json",
        "middlebrick.md",
        "middlebrick.sarif",
    ]
    gate = next(s for s in ACTION["runs"]["steps"] if s.get("name") == "Apply the gate")
    assert "steps.scan.outputs.exit-code != '0'" in gate["if"]


def test_a_passing_gate_and_extra_args(api: str, tmp_path: Path) -> None:
    code, outputs, _ = run_scan_step(
        {"url": api, "fail-on": "critical", "args": "--skip MB-ENC-001", "format": "junit"},
        tmp_path,
    )
    assert (code, outputs["exit-code"]) == (0, "0")
    assert (Path(outputs["report-dir"]) / "middlebrick.xml").is_file()


def test_a_scan_that_cannot_run_fails_the_step_with_its_exit_code(tmp_path: Path) -> None:
    code, outputs, summary = run_scan_step({"url": "http://127.0.0.1:9"}, tmp_path)
    assert code == 3
    assert outputs["exit-code"] == "3"
    assert "grade" not in outputs
    assert summary == ""


def test_audit_command_annotates_the_spec(tmp_path: Path) -> None:
    spec = tmp_path / "openapi.yaml"
    spec.write_text(
        "openapi: 3.0.3\ninfo: {title: x, version: '1'}\n"
        "components: {securitySchemes: {basic: {type: http, scheme: basic}}}\n"
        "security: [{basic: []}]\n"
        "paths:\n  /admin/users:\n    get:\n      security: []\n"
        "      responses: {'200': {description: ok}}\n"
    )
    code, outputs, _ = run_scan_step(
        {"command": "audit", "spec": str(spec), "fail-on": "info"}, tmp_path
    )
    assert (code, outputs["exit-code"]) == (0, "1")
    sarif = json.loads(Path(outputs["sarif-file"]).read_text())
    lines = {
        loc["physicalLocation"]["region"]["startLine"]
        for r in sarif["runs"][0]["results"]
        for loc in r["locations"]
        if "region" in loc.get("physicalLocation", {})
    }
    assert 7 in lines


def test_arguments_keep_the_user_s_order_and_quote_args() -> None:
    args = arguments(
        {
            "MB_URL": "http://x",
            "MB_ARGS": "--budget 5 --header 'X-Key: a b'",
            "MB_FORMAT": "html,junit",
        },
        Path("out"),
    )
    assert args[:3] == ["scan", "http://x", "--quiet"]
    assert args[-4:] == ["--budget", "5", "--header", "X-Key: a b"]
    assert args.count("--format") == 5
