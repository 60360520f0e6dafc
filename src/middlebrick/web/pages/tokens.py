"""API tokens: create (shown once, only a hash is kept), list, revoke."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from middlebrick.web.auth import PageSession, Session, store_of
from middlebrick.web.pages.base import render, see_other

router = APIRouter(include_in_schema=False)


def _tokens_page(
    request: Request,
    session: PageSession,
    *,
    created: str | None = None,
    created_name: str = "",
    error: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    tokens = store_of(request).list_api_tokens(session.user.id)
    return render(
        request,
        "tokens.html.j2",
        session,
        status=status,
        tokens=tokens,
        created=created,
        created_name=created_name,
        error=error,
        nav="tokens",
    )


@router.get("/tokens")
def tokens(request: Request, session: Session) -> Response:
    return _tokens_page(request, session)


@router.post("/tokens")
def create_token(
    request: Request, session: Session, name: Annotated[str, Form(max_length=100)]
) -> Response:
    name = name.strip()
    if not name:
        return _tokens_page(request, session, error="Give the token a name.", status=400)
    token = store_of(request).create_api_token(session.user.id, name)
    return _tokens_page(request, session, created=token, created_name=name, status=201)


@router.post("/tokens/{token_id}/revoke")
def revoke_token(request: Request, session: Session, token_id: int) -> Response:
    store_of(request).revoke_api_token(session.user.id, token_id)
    return see_other("/tokens")
