"""Fixtures for the demo tests: a throwaway CA, its PEM, and verifying TLS client contexts."""

from __future__ import annotations

import ssl
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from middlebrick.demo.tls import local_ca, write_ca_pem


@pytest.fixture
def ca() -> Any:
    return local_ca()


@pytest.fixture
def ca_pem(ca: Any, tmp_path: Path) -> Path:
    return write_ca_pem(ca, tmp_path / "ca.pem")


@pytest.fixture
def client_context(ca_pem: Path) -> Callable[..., ssl.SSLContext]:
    """Make a client context trusting `ca`; `version` pins it to one (maybe legacy) TLS version."""

    def make(version: ssl.TLSVersion | None = None) -> ssl.SSLContext:
        context = ssl.create_default_context(cafile=str(ca_pem))
        if version is not None:
            context.set_ciphers("DEFAULT:@SECLEVEL=0")  # OpenSSL 3: no TLS 1.0/1.1 suite above 0
            with warnings.catch_warnings():  # TLSVersion.TLSv1 and 1_1 are deprecated names
                warnings.simplefilter("ignore", DeprecationWarning)
                context.minimum_version = context.maximum_version = version
        return context

    return make
