"""How to fix each check's defect, written for the framework the scan detected.

`FIXES[check_id][framework]` is one paragraph (with a short code sample where one helps);
"generic" is always present and is used when the framework is unknown or has no entry.
"""

from __future__ import annotations

from middlebrick.remediation.fixes import FIXES

FRAMEWORKS = ("flask", "fastapi", "django", "express", "generic")


def fix_for(check_id: str, framework: str) -> tuple[str, str]:
    """The fix text and the framework it is written for."""
    entry = FIXES.get(check_id, {})
    if framework in entry:
        return entry[framework], framework
    if "generic" in entry:
        return entry["generic"], "generic"
    return "See the check's documentation for how to fix this.", "generic"
