"""Fixes for the encryption checks."""

from __future__ import annotations

FIXES: dict[str, dict[str, str]] = {}
