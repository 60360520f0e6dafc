from __future__ import annotations

from pathlib import Path

import pytest

from middlebrick.errors import SpecError
from middlebrick.spec.loader import load, parse
from middlebrick.spec.operations import Source, operations_from

OPENAPI = {
    "openapi": "3.0.3",
    "servers": [{"url": "https://elsewhere.example/api/v1"}],
    "security": [{"basicAuth": []}],
    "paths": {
        "/users": {"get": {}, "post": {}},
        "/users/{userId}": {
            "parameters": [{"name": "userId", "in": "path", "schema": {"type": "integer"}}],
            "get": {"operationId": "getUser"},
        },
        "/health": {"get": {"security": []}},
        "/search": {"get": {"security": [{}, {"basicAuth": []}]}},
        "/items/{sku}": {"get": {"parameters": [{"name": "sku", "in": "path", "example": "A-1"}]}},
        "/kinds/{kind}": {
            "get": {"parameters": [{"name": "kind", "in": "path", "schema": {"enum": ["x", "y"]}}]}
        },
    },
}


def test_operations_carry_method_concrete_url_and_declared_security() -> None:
    ops = {(o.method, o.path): o for o in operations_from(OPENAPI, "http://127.0.0.1:5000")}
    assert ops["GET", "/users"].url == "http://127.0.0.1:5000/api/v1/users"  # servers path kept,
    assert ops["GET", "/users"].secured is True  # host never taken from the spec
    assert ops["POST", "/users"].source is Source.SPEC
    assert ops["GET", "/users/{userId}"].url.endswith("/users/1")
    assert ops["GET", "/users/{userId}"].operation_id == "getUser"
    assert ops["GET", "/health"].secured is False  # `[]` overrides global security
    assert ops["GET", "/search"].secured is False  # `{}` makes authentication optional
    assert ops["GET", "/items/{sku}"].url.endswith("/items/A-1")
    assert ops["GET", "/kinds/{kind}"].url.endswith("/kinds/x")


def test_swagger_2_base_path_and_unknown_security() -> None:
    doc = {"swagger": "2.0", "basePath": "/v2/", "paths": {"/pets": {"get": {}}}}
    [op] = operations_from(doc, "https://api.test")
    assert op.url == "https://api.test/v2/pets"
    assert op.secured is None


def test_yaml_and_json_documents_load(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("openapi: 3.1.0\npaths:\n  /a:\n    get: {}\n")
    (tmp_path / "b.json").write_text('{"swagger": "2.0", "paths": {}}')
    assert load(str(tmp_path / "a.yaml"))["paths"] == {"/a": {"get": {}}}
    assert load(str(tmp_path / "b.json"))["swagger"] == "2.0"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"openapi": "3.0.0", "paths": ', "invalid JSON"),
        ("openapi: 3.0.0\npaths: [\n", "invalid YAML"),
        ("just: a mapping\n", "not an OpenAPI"),
        ("- a list\n", "not an OpenAPI"),
        ("openapi: 3.0.0\npaths: 7\n", "'paths' must be a mapping"),
        ("openapi: 3.0.0\nx: !!python/object/apply:os.system ['true']\n", "invalid YAML"),
    ],
)
def test_broken_documents_are_refused_with_a_location(text: str, message: str) -> None:
    with pytest.raises(SpecError, match=message):
        parse(text, "spec.yaml")
