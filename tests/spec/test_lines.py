"""Operations are located on their line of the spec file, in YAML and JSON alike."""

from __future__ import annotations

import json
from pathlib import Path

from middlebrick.engine import audit
from middlebrick.spec.lines import operation_lines

YAML = """\
openapi: 3.0.3
info:
  title: x
  description: |
    /users: is also mentioned here, as prose
    get: this too
paths:
  /users:
    post:
      requestBody:
        content:
          application/json: {}
    get:
      security: []
  '/users/{id}':
    delete:
      responses: {}
"""


def test_yaml_lines() -> None:
    lines = operation_lines(
        YAML, [("/users", "GET"), ("/users", "POST"), ("/users/{id}", "DELETE")]
    )
    assert lines == {("/users", "POST"): 9, ("/users", "GET"): 13, ("/users/{id}", "DELETE"): 16}


def test_json_lines() -> None:
    doc = {"openapi": "3.0.3", "paths": {"/a": {"get": {}}, "/b": {"put": {}, "get": {}}}}
    text = json.dumps(doc, indent=2)
    numbered = {n + 1: line for n, line in enumerate(text.splitlines())}
    lines = operation_lines(text, [("/a", "GET"), ("/b", "GET"), ("/b", "PUT")])
    assert {k: numbered[v].strip() for k, v in lines.items()} == {
        ("/a", "GET"): '"get": {}',
        ("/b", "PUT"): '"put": {},',
        ("/b", "GET"): '"get": {}',
    }


def test_a_minified_spec_puts_everything_on_line_one() -> None:
    text = json.dumps({"paths": {"/a": {"get": {}}}})
    assert operation_lines(text, [("/a", "GET")]) == {("/a", "GET"): 1}


def test_audit_findings_point_at_the_operation_line(tmp_path: Path) -> None:
    spec = tmp_path / "api.yaml"
    spec.write_text(
        "openapi: 3.0.3\n"
        "info: {title: x, version: '1'}\n"
        "components:\n"
        "  securitySchemes:\n"
        "    basic: {type: http, scheme: basic}\n"
        "security: [{basic: []}]\n"
        "paths:\n"
        "  /admin/users:\n"
        "    get:\n"
        "      security: []\n"
        "      responses: {'200': {description: ok}}\n"
    )
    report = audit(str(spec))
    located = [loc for f in report.findings for loc in f.locations]
    assert located, report.findings
    assert {(loc.file, loc.line, loc.operation) for loc in located} == {
        (str(spec), 9, "GET /admin/users")
    }
