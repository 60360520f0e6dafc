from __future__ import annotations

import pytest
from pydantic import SecretStr, ValidationError

from middlebrick.config import ScanConfig, normalise_target, parse_header
from middlebrick.errors import ConfigError


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("127.0.0.1:8000", "http://127.0.0.1:8000"),
        ("https://API.example.com/v1/", "https://api.example.com/v1"),
        ("http://[::1]:5000", "http://[::1]:5000"),
    ],
)
def test_targets_are_normalised(given: str, expected: str) -> None:
    assert normalise_target(given) == expected


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("ftp://example.com", "only http"),
        ("http://", "no host"),
        ("http://example.com:99999", "not a valid URL"),
        ("http://alice:pw@example.com", "credentials"),
    ],
)
def test_bad_targets_are_refused_with_a_reason(given: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        normalise_target(given)


def test_auth_must_be_user_colon_pass() -> None:
    with pytest.raises(ValidationError):
        ScanConfig(target="http://x", auth=SecretStr("no-colon"))


def test_public_settings_never_carry_credentials() -> None:
    config = ScanConfig(
        target="http://x",
        auth=SecretStr("alice:topsecret"),
        bearer=SecretStr("tok-123456"),
        headers=(parse_header("X-Api-Key: key-abcdef"),),
    )
    text = repr(config.public_settings()) + repr(config) + config.model_dump_json()
    for secret in ("topsecret", "tok-123456", "key-abcdef"):
        assert secret not in text
    assert config.public_settings()["credentials"] == ["basic", "bearer", "header:X-Api-Key"]


def test_header_parsing() -> None:
    name, value = parse_header("X-Api-Key:  abc ")
    assert (name, value.get_secret_value()) == ("X-Api-Key", "abc")
    with pytest.raises(ConfigError):
        parse_header("no colon here")


def test_only_safe_methods_without_unsafe() -> None:
    config = ScanConfig(target="http://x")
    assert config.allows("GET")
    assert config.allows("options")
    assert not config.allows("POST")
    assert ScanConfig(target="http://x", unsafe=True).allows("DELETE")
