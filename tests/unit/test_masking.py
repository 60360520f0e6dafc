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
