"""Fix texts per check id and framework (see the package docstring)."""

from __future__ import annotations

FIXES: dict[str, dict[str, str]] = {}
