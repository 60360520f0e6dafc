"""The API as its description declares it: security schemes and operations, each with a concrete
URL on the target and the security that applies to it."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from middlebrick.spec.lines import operation_lines
from middlebrick.spec.refs import Resolver
from middlebrick.spec.samples import fill_path

HTTP_METHODS = ("get", "head", "options", "post", "put", "patch", "delete")


class Source(StrEnum):
    ROOT = "root"
    SPEC = "spec"
    LINK = "link"


@dataclass(frozen=True, slots=True)
class Scheme:
    """A security scheme, normalised across Swagger 2.0 and OpenAPI 3.x."""

    name: str
    type: str  # http, apiKey, oauth2, openIdConnect, mutualTLS (Swagger's "basic" -> http/basic)
    scheme: str | None = None  # for type http: basic, bearer, digest, ... (lower-case)
    location: str | None = None  # for apiKey: header, query, cookie
    parameter: str | None = None  # for apiKey: the header/query/cookie name
    bearer_format: str | None = None

    @property
    def kind(self) -> str:
        """basic, digest, bearer, apikey, oauth2, openid, mutualtls, or the raw type."""
        if self.type == "http" and self.scheme:
            return self.scheme
        if self.type in ("oauth2", "openIdConnect"):
            return "bearer"  # both present bearer tokens to the API
        return self.type.lower()


@dataclass(frozen=True, slots=True)
class Operation:
    method: str
    path: str  # the path template as documented, e.g. /users/{id}
    url: str  # a concrete URL on the target
    source: Source
    secured: bool | None = None  # declared security: True, False (public), None (unknown)
    operation_id: str | None = None
    spec_line: int | None = None
    # alternatives (any one suffices), each a set of scheme names that must all be presented
    security: tuple[tuple[str, ...], ...] | None = None
    responses: tuple[str, ...] = ()  # documented status codes
    parameters: tuple[dict[str, Any], ...] = field(default=(), compare=False, repr=False)
    response_schemas: tuple[Any, ...] = field(default=(), compare=False, repr=False)

    @property
    def endpoint(self) -> str:
        return f"{self.method} {self.url}"


@dataclass(frozen=True, slots=True)
class ApiSpec:
    """A loaded API description: what `audit` reads and `scan` tests against."""

    source: str
    doc: dict[str, Any] = field(repr=False)
    version: str  # "2.0", "3.0.3", "3.1.0", ...
    schemes: dict[str, Scheme]
    operations: tuple[Operation, ...]
    servers: tuple[str, ...]
    global_security: tuple[tuple[str, ...], ...] | None
    resolver: Resolver = field(repr=False, compare=False)


def api_spec(doc: dict[str, Any], source: str, origin_url: str, text: str | None = None) -> ApiSpec:
    """Read `doc` (already parsed) into an `ApiSpec` whose URLs are on `origin_url`; `text` (read
    from `source` when it is a file) gives each operation its line."""
    is_file = "://" not in source
    resolver = Resolver(doc, Path(source) if is_file else None)
    schemes = _schemes(doc, resolver)
    operations = _operations(doc, resolver, origin_url)
    if is_file and text is None:
        try:
            text = Path(source).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            text = None
    if text is not None:
        lines = operation_lines(text, ((op.path, op.method) for op in operations))
        operations = [replace(op, spec_line=lines.get((op.path, op.method))) for op in operations]
    return ApiSpec(
        source=source,
        doc=doc,
        version=str(doc.get("openapi") or doc.get("swagger") or ""),
        schemes=schemes,
        operations=tuple(operations),
        servers=tuple(_servers(doc)),
        global_security=_requirements(doc.get("security")),
        resolver=resolver,
    )


def operations_from(doc: dict[str, Any], origin_url: str) -> list[Operation]:
    """Every operation the document declares, with a concrete URL on `origin_url`."""
    return list(_operations(doc, Resolver(doc), origin_url))


def _operations(doc: dict[str, Any], resolver: Resolver, origin_url: str) -> list[Operation]:
    base = _base_path(doc)
    global_security = doc.get("security")
    ops: list[Operation] = []
    paths = _mapping(doc.get("paths"))
    for path, raw_item in paths.items():
        item = resolver.deref(raw_item)
        if not isinstance(item, dict) or not isinstance(path, str) or not path.startswith("/"):
            continue
        shared = _parameters(item.get("parameters"), resolver)
        for method in HTTP_METHODS:
            op = resolver.deref(item.get(method))
            if method not in item or not isinstance(op, dict):
                continue
            own = _parameters(op.get("parameters"), resolver)
            names = {(p.get("name"), p.get("in")) for p in own}
            params = [p for p in shared if (p.get("name"), p.get("in")) not in names] + own
            security = op.get("security", global_security)
            responses = _mapping(op.get("responses"))
            ops.append(
                Operation(
                    method=method.upper(),
                    path=path,
                    url=origin_url + base + fill_path(path, params),
                    source=Source.SPEC,
                    secured=_is_secured(security),
                    operation_id=op["operationId"]
                    if isinstance(op.get("operationId"), str)
                    else None,
                    security=_requirements(security),
                    responses=tuple(str(code) for code in responses),
                    parameters=tuple(params),
                    response_schemas=tuple(_response_schemas(responses, resolver)),
                )
            )
    return ops


def _mapping(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _sequence(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _parameters(raw: object, resolver: Resolver) -> list[dict[str, Any]]:
    if not isinstance(raw, list):
        return []
    return [p for p in (resolver.deref(r) for r in raw) if isinstance(p, dict)]


def _response_schemas(responses: dict[str, Any], resolver: Resolver) -> list[Any]:
    schemas = []
    for code, raw in responses.items():
        response = resolver.deref(raw)
        if not str(code).startswith("2") or not isinstance(response, dict):
            continue
        if "schema" in response:  # Swagger 2.0
            schemas.append(response["schema"])
        content = response.get("content")
        if isinstance(content, dict):
            for media in content.values():
                if isinstance(media, dict) and "schema" in media:
                    schemas.append(media["schema"])
    return schemas


def _schemes(doc: dict[str, Any], resolver: Resolver) -> dict[str, Scheme]:
    components = _mapping(doc.get("components"))
    raw = doc.get("securityDefinitions") or components.get("securitySchemes") or {}
    schemes: dict[str, Scheme] = {}
    if not isinstance(raw, dict):
        return schemes
    for name, value in raw.items():
        spec = resolver.deref(value)
        if not isinstance(spec, dict):
            continue
        kind = str(spec.get("type", ""))
        if kind == "basic":  # Swagger 2.0
            schemes[name] = Scheme(name, "http", "basic")
        elif kind == "http":
            scheme = str(spec.get("scheme", "")).lower() or None
            schemes[name] = Scheme(name, "http", scheme, bearer_format=spec.get("bearerFormat"))
        elif kind == "apiKey":
            schemes[name] = Scheme(
                name, "apiKey", location=spec.get("in"), parameter=spec.get("name")
            )
        else:
            schemes[name] = Scheme(name, kind)
    return schemes


def _requirements(security: object) -> tuple[tuple[str, ...], ...] | None:
    if not isinstance(security, list):
        return None
    return tuple(
        tuple(str(name) for name in requirement)
        for requirement in security
        if isinstance(requirement, dict)
    )


def _is_secured(security: object) -> bool | None:
    """`[]` or a list holding `{}` means anonymous access is allowed; absent means unknown."""
    if not isinstance(security, list):
        return None
    return bool(security) and not any(isinstance(req, dict) and not req for req in security)


def _servers(doc: dict[str, Any]) -> list[str]:
    if "swagger" in doc:
        host, base = doc.get("host"), doc.get("basePath")
        schemes = _sequence(doc.get("schemes")) or ["https"]
        if not isinstance(host, str):
            return []
        base = base if isinstance(base, str) else ""
        return [f"{s}://{host}{base}" for s in schemes if isinstance(s, str)]
    servers = _sequence(doc.get("servers"))
    return [s["url"] for s in servers if isinstance(s, dict) and isinstance(s.get("url"), str)]


def _base_path(doc: dict[str, Any]) -> str:
    if "swagger" in doc:
        base = doc.get("basePath") or ""
    else:
        servers = _sequence(doc.get("servers"))
        url = servers[0].get("url", "") if servers and isinstance(servers[0], dict) else ""
        base = urlsplit(url).path if isinstance(url, str) else ""
    base = base if isinstance(base, str) else ""
    return base.rstrip("/")
