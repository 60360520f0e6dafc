from __future__ import annotations

import base64

from middlebrick.http.exchange import Masker, mask_value


def test_mask_value_keeps_a_recognisable_prefix_and_the_length() -> None:
    assert mask_value("YWxpY2U6d29uZGVy") == "YWxp…(16)"
    assert mask_value("short") == "…(5)"


def test_basic_credentials_are_masked_in_every_form() -> None:
    m = Masker()
    m.add_basic("alice:wonderland-2024")
    token = base64.b64encode(b"alice:wonderland-2024").decode()
    text = f"user alice:wonderland-2024 token {token} password wonderland-2024"
    masked = m.mask(text)
    assert "wonderland-2024" not in masked
    assert token not in masked
    assert masked.startswith("user alic…(21) token YWxp…(28)")


def test_authorization_header_keeps_its_scheme() -> None:
    m = Masker()
    assert m.mask_header("Authorization", "Bearer abcdefghijklmnopqrstuvwxyz") == "Bearer abcd…(26)"


def test_cookies_keep_names_and_attributes() -> None:
    m = Masker()
    masked = m.mask_header("Set-Cookie", "session=0123456789abcdef0123; Path=/; HttpOnly")
    assert masked == "session=0123…(20); Path=/; HttpOnly"


def test_masker_without_secrets_changes_nothing() -> None:
    assert Masker().mask("nothing secret here") == "nothing secret here"


def test_a_secret_across_the_excerpt_cut_is_masked_whole() -> None:
    from middlebrick.http.exchange import (
        EXCERPT_BYTES,
        Exchange,
        Headers,
        Request,
        Response,
        to_record,
    )

    secret = "AKIAZZZZSTRADDLE1234"
    body = ("x" * (EXCERPT_BYTES - 8) + secret + "y" * 100).encode()
    ex = Exchange(
        id=1,
        purpose="test",
        request=Request("GET", "http://127.0.0.1/", Headers(())),
        response=Response(200, "OK", "HTTP/1.1", Headers(()), body),
    )
    masker = Masker()
    masker.add(secret)
    excerpt = to_record(ex, masker).response.body_excerpt  # type: ignore[union-attr]
    assert len(excerpt) <= EXCERPT_BYTES
    assert secret[:8] not in excerpt
    assert excerpt.endswith("x" * 8 + "AKIA…(20)"[:8])
