"""Fixtures for the remediation tests: a throwaway CA and the scans before and after a fix."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from middlebrick.demo.tls import local_ca, write_ca_pem


@pytest.fixture
def ca(tmp_path: Path) -> tuple[Any, Path]:
    authority = local_ca()
    return authority, write_ca_pem(authority, tmp_path / "ca.pem")
