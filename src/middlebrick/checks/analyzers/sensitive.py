"""Does a JSON document hold data nobody should get anonymously? Pure, bounded, no I/O.

This is the first, deliberately narrow cut (field names and e-mail addresses); the data-exposure
analyzers (PII with checksums, secrets, hashes) refine it.
"""

from __future__ import annotations

import re
from typing import Any

SECRET_KEY = re.compile(
    r"^(?:password|passwd|pwd|password_?hash|hashed_?password|secret|client_secret|api_?key|"
    r"private_?key|access_?token|refresh_?token|session_?token|otp_?secret|totp_?secret|"
    r"mfa_?secret|salt)$",
    re.I,
)
PERSONAL_KEY = re.compile(
    r"^(?:e_?mail|email_?address|phone(?:_?number)?|mobile|ssn|social_security_number|"
    r"date_?of_?birth|dob|birth_?date|address|street|iban|card_?number)$",
    re.I,
)
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[a-z]{2,24}$", re.I)
MAX_NODES = 50_000


def sensitive_fields(document: Any) -> tuple[set[str], set[str], int]:
    """(secret field names with values, personal field names, records that carry personal data)."""
    secrets_found: set[str] = set()
    personal: set[str] = set()
    records = 0
    stack = [document]
    visited = 0
    while stack and visited < MAX_NODES:
        node = stack.pop()
        visited += 1
        if isinstance(node, dict):
            holds_personal = False
            for key, value in node.items():
                name = str(key)
                if isinstance(value, dict | list):
                    stack.append(value)
                    continue
                if value in (None, "", 0, False):
                    continue
                if SECRET_KEY.match(name):
                    secrets_found.add(name)
                elif PERSONAL_KEY.match(name) or (isinstance(value, str) and EMAIL.match(value)):
                    personal.add(name)
                    holds_personal = True
            records += holds_personal
        elif isinstance(node, list):
            stack.extend(node[:1000])
    return secrets_found, personal, records
