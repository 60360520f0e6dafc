"""`Operation`: one method + path the scan tests, with what the API description says about it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from middlebrick.spec.samples import fill_path


class Source(StrEnum):
    ROOT = "root"
    SPEC = "spec"
    LINK = "link"


@dataclass(frozen=True, slots=True)
class Operation:
    method: str
    path: str  # the path template as documented, e.g. /users/{id}
    url: str  # a concrete URL on the target
    source: Source
    secured: bool | None = None  # declared security: True, False (public), None (unknown)
    operation_id: str | None = None
    spec_line: int | None = None

    @property
    def endpoint(self) -> str:
        return f"{self.method} {self.url}"


HTTP_METHODS = ("get", "head", "options", "post", "put", "patch", "delete")


def operations_from(doc: dict[str, Any], origin_url: str) -> list[Operation]:
    """Every operation the document declares, with a concrete URL on `origin_url`."""
    base = _base_path(doc)
    global_security = doc.get("security")
    ops: list[Operation] = []
    for path, item in (doc.get("paths") or {}).items():
        if not isinstance(item, dict) or not isinstance(path, str) or not path.startswith("/"):
            continue
        shared_params: list[Any] = (
            item["parameters"] if isinstance(item.get("parameters"), list) else []
        )
        for method in HTTP_METHODS:
            op = item.get(method)
            if not isinstance(op, dict):
                continue
            params = shared_params + (
                op["parameters"] if isinstance(op.get("parameters"), list) else []
            )
            security = op.get("security", global_security)
            ops.append(
                Operation(
                    method=method.upper(),
                    path=path,
                    url=origin_url + base + fill_path(path, params),
                    source=Source.SPEC,
                    secured=_is_secured(security),
                    operation_id=op.get("operationId")
                    if isinstance(op.get("operationId"), str)
                    else None,
                )
            )
    return ops


def _is_secured(security: object) -> bool | None:
    """`[]` or a list holding `{}` means anonymous access is allowed; absent means unknown."""
    if security is None:
        return None
    if not isinstance(security, list):
        return None
    return bool(security) and not any(isinstance(req, dict) and not req for req in security)


def _base_path(doc: dict[str, Any]) -> str:
    if "swagger" in doc:
        base = doc.get("basePath") or ""
    else:
        servers = doc.get("servers") or []
        url = servers[0].get("url", "") if servers and isinstance(servers[0], dict) else ""
        base = urlsplit(url).path if isinstance(url, str) else ""
    base = base if isinstance(base, str) else ""
    return base.rstrip("/")
