"""Errors of the REST API as RFC 9457 problem documents (`application/problem+json`): the route
class that turns every failure of an API route into one, and their OpenAPI description."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable, Coroutine
from http import HTTPStatus
from pathlib import PurePath
from typing import Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException
from starlette.types import Message

from middlebrick.errors import MiddlebrickError

PROBLEM_MEDIA_TYPE = "application/problem+json"
MAX_BODY_BYTES = 10 << 20  # a request body: a scan with its spec, or a report
MAX_LISTED_ERRORS = 20
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})

log = logging.getLogger("middlebrick.web.api")


class ProblemError(BaseModel):
    """One invalid part of the request: `pointer` into the JSON body, or a `parameter`."""

    detail: str
    pointer: str | None = Field(default=None, description="A JSON Pointer (RFC 6901) as '#/…'.")
    parameter: str | None = Field(default=None, description="A query or path parameter.")


class Problem(BaseModel):
    """An error, as RFC 9457 describes it."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    errors: list[ProblemError] | None = Field(
        default=None, description="What is invalid, when the request did not validate."
    )


def problem_response(
    status: int,
    detail: str,
    *,
    headers: dict[str, str] | None = None,
    errors: list[ProblemError] | None = None,
) -> JSONResponse:
    """An `application/problem+json` answer; `detail` must quote no secret."""
    problem = Problem(title=HTTPStatus(status).phrase, status=status, detail=detail, errors=errors)
    return JSONResponse(
        problem.model_dump(mode="json", exclude_none=True),
        status,
        headers=headers,
        media_type=PROBLEM_MEDIA_TYPE,
    )


class _TooLarge(Exception):
    pass


class ProblemRoute(APIRoute):
    """A route whose every error is a problem document: authentication and validation failures
    included, which FastAPI raises before the endpoint runs. The body is read here, up to
    `MAX_BODY_BYTES`, so an oversized one is refused before anything parses it."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def answer(request: Request) -> Response:
            try:
                if request.method in _BODY_METHODS:
                    request = await _capped(request, MAX_BODY_BYTES)
                return await handler(request)
            except _TooLarge:
                return problem_response(
                    413, f"the request body is larger than {MAX_BODY_BYTES >> 20} MiB"
                )
            except HTTPException as exc:
                return problem_response(
                    exc.status_code, str(exc.detail), headers=dict(exc.headers or {})
                )
            except RequestValidationError as exc:
                return _invalid(exc)
            except MiddlebrickError as exc:  # the guard's refusal, the store's ConfigError
                return problem_response(422, " ".join(str(exc).split()))
            except Exception as exc:  # the boundary: a bug or a broken database
                frame = traceback.extract_tb(exc.__traceback__)[-1]
                log.error(  # the type and place only: a message could quote a credential
                    "API %s %s: %s at %s:%s",
                    request.method,
                    request.url.path,
                    type(exc).__name__,
                    PurePath(frame.filename).name,
                    frame.lineno,
                )
                return problem_response(500, "an unexpected error; the dashboard's log has it")

        return answer


async def _capped(request: Request, limit: int) -> Request:
    """`request` with its body read, refusing more than `limit` bytes (declared or sent)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _TooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _TooLarge
        chunks.append(chunk)
    body = b"".join(chunks)
    replayed = False

    async def receive() -> Message:
        nonlocal replayed
        if not replayed:
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await request.receive()

    return Request(request.scope, receive)


def _invalid(exc: RequestValidationError) -> Response:
    """A 422 listing what did not validate. Pydantic's messages name the rule, never the value;
    the offending input, which may be a credential, is left out."""
    errors: list[ProblemError] = []
    for error in exc.errors()[:MAX_LISTED_ERRORS]:
        where, *path = [str(part) for part in error.get("loc", ())] or ["body"]
        message = str(error.get("msg", "invalid")).removeprefix("Value error, ")
        if error.get("type") == "json_invalid":
            errors.append(ProblemError(detail="the body is not valid JSON", pointer="#"))
        elif where == "body":
            pointer = "/".join(p.replace("~", "~0").replace("/", "~1") for p in path)
            errors.append(ProblemError(detail=message, pointer=f"#/{pointer}".rstrip("/")))
        else:
            errors.append(ProblemError(detail=message, parameter=path[-1] if path else where))
    first = errors[0] if errors else ProblemError(detail="the request is not valid")
    where = first.pointer or first.parameter or ""
    return problem_response(
        422, f"{where.removeprefix('#')}: {first.detail}".lstrip(": "), errors=errors
    )


def _inline(schema: dict[str, Any]) -> dict[str, Any]:
    """A JSON Schema with its `$defs` substituted in place: the OpenAPI document then needs no
    component for problems (FastAPI would file a component under `application/json` only)."""
    definitions = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref", "")
            if ref.startswith("#/$defs/"):
                return resolve(definitions[ref.removeprefix("#/$defs/")])
            return {key: resolve(value) for key, value in node.items()}
        if isinstance(node, list):
            return [resolve(item) for item in node]
        return node

    resolved: dict[str, Any] = resolve(schema)
    return resolved


_PROBLEM_SCHEMA = _inline(Problem.model_json_schema())
_WHY = {
    401: "No valid API token (`WWW-Authenticate: Bearer`).",
    404: "No such resource among the caller's own.",
    409: "The scan is not in a state that allows this.",
    413: f"The request body is larger than {MAX_BODY_BYTES >> 20} MiB.",
    422: "The request is not valid, or the target may not be scanned.",
}


def problems(*codes: int) -> dict[int | str, dict[str, Any]]:
    """A route's error `responses` for OpenAPI: 401 (every route needs a token) and `codes`."""
    return {
        code: {
            "description": _WHY[code],
            "content": {PROBLEM_MEDIA_TYPE: {"schema": _PROBLEM_SCHEMA}},
        }
        for code in (401, *codes)
    }
