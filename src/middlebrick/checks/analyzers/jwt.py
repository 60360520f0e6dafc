"""Forged JSON Web Tokens for authentication tests: each is well-formed, and none is valid.

Many APIs reject junk but accept any well-formed token, because they decode without verifying,
honour `alg: none`, skip the expiry check, or verify only when a signature is present.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

WRONG_KEY = b"middlebrick-wrong-key-not-the-servers"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def decode(token: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """Header and claims of a JWS compact token, unverified; None if it is not one."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        header, claims = (json.loads(unb64url(p)) for p in parts[:2])
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    if not isinstance(header, dict) or not isinstance(claims, dict):
        return None
    return header, claims


def encode(header: dict[str, Any], claims: dict[str, Any], key: bytes | None) -> str:
    head = b64url(json.dumps(header, separators=(",", ":")).encode())
    body = b64url(json.dumps(claims, separators=(",", ":")).encode())
    signing_input = f"{head}.{body}".encode()
    signature = b64url(hmac.new(key, signing_input, hashlib.sha256).digest()) if key else ""
    return f"{head}.{body}.{signature}"


def forgeries(token: str | None) -> dict[str, str]:
    """Named forged tokens: from the user's own token when it is a JWT, else from stock claims."""
    now = int(time.time())
    decoded = decode(token) if token else None
    if decoded is None:
        header: dict[str, Any] = {"alg": "HS256", "typ": "JWT"}
        claims: dict[str, Any] = {"sub": "1", "iat": now, "exp": now + 3600}
    else:
        header, claims = decoded
    forged = {
        "alg-none": encode({**header, "alg": "none"}, claims, None),
        "wrong-key": encode({**header, "alg": "HS256"}, claims, WRONG_KEY),
        "expired": encode({**header, "alg": "HS256"}, {**claims, "exp": now - 86_400}, WRONG_KEY),
    }
    if token and decoded is not None:
        forged["signature-stripped"] = token.rsplit(".", 1)[0] + "."
        # the user's own claims with exp in the past, keeping their real signature
        head, _, sig = token.split(".")
        expired_claims = b64url(json.dumps({**claims, "exp": now - 86_400}).encode())
        forged["expired"] = f"{head}.{expired_claims}.{sig}"
    else:
        forged["signature-stripped"] = forged["wrong-key"].rsplit(".", 1)[0] + "."
    return forged
