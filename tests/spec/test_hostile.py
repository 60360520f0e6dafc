"""Hostile and tricky descriptions: alias bombs, deep nesting, ref loops, refs that leave the
spec's folder. Each is refused with a clear SpecError or handled without harm."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from middlebrick.errors import SpecError
from middlebrick.spec.loader import load, parse
from middlebrick.spec.operations import api_spec
from middlebrick.spec.refs import Resolver


def billion_laughs() -> str:
    text = 'openapi: 3.0.0\na: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    previous = "a"
    for name in "bcdefghi":
        text += f"{name}: &{name} [" + ",".join([f"*{previous}"] * 9) + "]\n"
        previous = name
    return text + "paths: {}\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (billion_laughs(), "alias bomb"),
        (
            "openapi: 3.0.0\nx: " + "[" * 10_000 + "]" * 10_000 + "\npaths: {}\n",
            "nested too deeply",
        ),
        ('{"openapi": "3.0.0", "x": ' + "[" * 100_000 + "]" * 100_000 + "}", "nested too deeply"),
        ("openapi: 3.0.0\nx: &a [*a]\npaths: {}\n", "refers to itself"),
    ],
)
def test_hostile_documents_are_refused(text: str, message: str) -> None:
    with pytest.raises(SpecError, match=message):
        parse(text, "hostile.yaml")


def test_oversized_files_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "huge.json"
    path.write_bytes(b'{"openapi": "3.0.0", "pad": "' + b"x" * (51 * 1024 * 1024) + b'"}')
    with pytest.raises(SpecError, match="larger than 50 MB"):
        load(str(path))


def test_ref_loops_resolve_to_nothing() -> None:
    doc = {"a": {"$ref": "#/b"}, "b": {"$ref": "#/a"}, "c": {"$ref": "#/c"}}
    resolver = Resolver(doc)
    assert resolver.deref({"$ref": "#/a"}) == {}
    assert resolver.deref({"$ref": "#/c"}) == {}
    assert resolver.deref({"$ref": "#/nowhere"}) == {}


def test_external_refs_only_beside_the_spec(tmp_path: Path) -> None:
    (tmp_path / "params.yaml").write_text("Id: {name: id, in: path, example: 42}\n")
    outside = tmp_path.parent / "outside.yaml"
    outside.write_text("Id: {name: id, in: path, example: 666}\n")
    doc = {
        "openapi": "3.0.0",
        "paths": {
            "/a/{id}": {"get": {"parameters": [{"$ref": "params.yaml#/Id"}]}},
            "/b/{id}": {"get": {"parameters": [{"$ref": "../outside.yaml#/Id"}]}},
            "/c/{id}": {"get": {"parameters": [{"$ref": "https://example.test/p.yaml#/Id"}]}},
        },
    }
    spec_path = tmp_path / "openapi.json"
    spec_path.write_text(json.dumps(doc))
    spec = api_spec(load(str(spec_path)), str(spec_path), "https://api.test")
    urls = sorted(op.url for op in spec.operations)
    assert urls == ["https://api.test/a/42", "https://api.test/b/1", "https://api.test/c/1"]


def test_recursive_schemas_and_refs_in_paths_are_fine() -> None:
    doc = {
        "openapi": "3.1.0",
        "components": {
            "pathItems": {"Users": {"get": {"security": []}}},
            "schemas": {"Node": {"properties": {"next": {"$ref": "#/components/schemas/Node"}}}},
        },
        "paths": {"/users": {"$ref": "#/components/pathItems/Users"}},
    }
    [op] = api_spec(doc, "x.json", "https://api.test").operations
    assert (op.path, op.secured) == ("/users", False)
