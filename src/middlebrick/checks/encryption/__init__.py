"""Encryption: is the API reachable only over TLS, told to stay there, and is its TLS sound."""

from middlebrick.checks.encryption.hsts import (
    hsts_problems,
    inconsistent_hsts,
    missing_hsts,
    weak_hsts,
)
from middlebrick.checks.encryption.tls import (
    certificate_host_mismatch,
    expired_certificate,
    legacy_tls_accepted,
    untrusted_certificate,
    weak_ciphers_accepted,
)
from middlebrick.checks.encryption.transport import (
    http_answered_before_redirect,
    plain_http_api,
    spoofable_https_enforcement,
    temporary_https_redirect,
)

__all__ = [
    "certificate_host_mismatch",
    "expired_certificate",
    "hsts_problems",
    "http_answered_before_redirect",
    "inconsistent_hsts",
    "legacy_tls_accepted",
    "missing_hsts",
    "plain_http_api",
    "spoofable_https_enforcement",
    "temporary_https_redirect",
    "untrusted_certificate",
    "weak_ciphers_accepted",
    "weak_hsts",
]
