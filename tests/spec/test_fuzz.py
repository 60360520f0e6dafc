"""Property tests: whatever document the loader is given, it returns a spec or raises SpecError —
never another exception, never a hang."""

from __future__ import annotations

import json
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from middlebrick.errors import SpecError
from middlebrick.spec.loader import parse
from middlebrick.spec.operations import api_spec

KEYS = st.sampled_from(
    [
        "openapi",
        "swagger",
        "paths",
        "get",
        "post",
        "parameters",
        "security",
        "$ref",
        "responses",
        "components",
        "securitySchemes",
        "servers",
        "url",
        "in",
        "name",
        "schema",
        "type",
        "/a",
        "/a/{id}",
        "basePath",
        "host",
        "schemes",
        "securityDefinitions",
        "content",
        "properties",
    ]
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.text(max_size=20),
    st.sampled_from(
        ["#/paths", "#/components/schemas/X", "other.yaml#/a", "#", "#/a/~1b", "3.0.0"]
    ),
)
JSONISH = st.recursive(
    SCALARS,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(KEYS, children, max_size=5),
    max_leaves=40,
)


def _load(text: str) -> None:
    try:
        spec = api_spec(parse(text, "fuzz.json"), "fuzz.json", "https://api.test")
    except SpecError:
        return
    for op in spec.operations:  # walking the result must be safe too
        assert op.url.startswith("https://api.test")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(JSONISH)
def test_arbitrary_json_documents_never_crash_the_loader(doc: Any) -> None:
    if isinstance(doc, dict):
        doc.setdefault("openapi", "3.0.0")
    _load(json.dumps(doc))


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(KEYS, JSONISH, max_size=6))
def test_arbitrary_yaml_documents_never_crash_the_loader(doc: dict[str, Any]) -> None:
    doc.setdefault("swagger", "2.0")
    _load(yaml.safe_dump(doc))


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_arbitrary_text_never_crashes_the_loader(text: str) -> None:
    _load(text)
