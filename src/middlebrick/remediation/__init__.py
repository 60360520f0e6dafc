"""How to fix each check's defect, written for the framework the scan detected and, where it
changes the fix, for the auth scheme the API uses.

`FIXES[check_id][framework]` is a Markdown paragraph (with code where it helps), or a dict of them
by scheme: `{"basic": ..., "bearer": ..., "apikey": ..., "any": ...}`. Every check has all five
frameworks; `fix_for` falls back to "generic" for an unknown framework and to "any" for an
unknown or undetected scheme. The Flask code comes from `flask_snippets`, which the tests run.
"""

from __future__ import annotations

from collections.abc import Iterable

from middlebrick.remediation._snippet import Fix
from middlebrick.remediation.fixes import FIXES

FRAMEWORKS = ("flask", "fastapi", "django", "express", "generic")
SCHEMES = ("basic", "bearer", "apikey")
SCHEME_LABELS = {"basic": "Basic", "bearer": "Bearer", "apikey": "API key", "any": "Any scheme"}

__all__ = [
    "FIXES",
    "FRAMEWORKS",
    "SCHEMES",
    "SCHEME_LABELS",
    "Fix",
    "fix_for",
    "scheme_of",
    "schemes_markdown",
]


def fix_for(check_id: str, framework: str, auth: str | None = None) -> tuple[str, str]:
    """The fix text and the framework it is written for, for the API's auth scheme `auth`
    (basic, bearer, apikey; None or anything else: the text for any scheme)."""
    entry = FIXES.get(check_id, {})
    chosen = framework if framework in entry else "generic"
    fix = entry.get(chosen)
    if fix is None:
        return "See the check's documentation for how to fix this.", "generic"
    if isinstance(fix, str):
        return fix, chosen
    return fix.get(auth or "any", fix["any"]), chosen


def scheme_of(kinds: Iterable[str]) -> str | None:
    """The scheme whose fix applies, from what the scan knows, most telling first: credential
    kinds given to it ("basic", "bearer", "header:X-API-Key"), challenges seen, declared kinds."""
    for kind in (k.lower() for k in kinds):
        if kind in ("basic", "bearer"):
            return kind
        if kind == "apikey" or kind.startswith("header:"):
            return "apikey"
    return None


def schemes_markdown(fix: Fix) -> str:
    """A fix as Markdown: the text itself, or for per-scheme fixes the part all schemes share
    once, then what each scheme adds (a bullet, or a subsection when it holds a code block)."""
    if isinstance(fix, str):
        return fix
    texts = [fix[s] for s in (*SCHEMES, "any")]
    shared = _shared_prefix(texts)
    rests = {scheme: fix[scheme][len(shared) :].strip() for scheme in (*SCHEMES, "any")}
    blocks = [shared.strip()] if shared.strip() else []
    if any("\n" in rest for rest in rests.values()):  # code blocks: one subsection each
        blocks += [f"#### {SCHEME_LABELS[s]}\n\n{rest}" for s, rest in rests.items() if rest]
    else:
        blocks.append("\n".join(f"- **{SCHEME_LABELS[s]}:** {r}" for s, r in rests.items() if r))
    return "\n\n".join(b for b in blocks if b)


def _shared_prefix(texts: list[str]) -> str:
    """The longest common start of `texts` that ends a sentence or a paragraph."""
    prefix = texts[0]
    for text in texts[1:]:
        while not text.startswith(prefix):
            prefix = prefix[:-1]
    if all(len(t) == len(prefix) for t in texts):
        return prefix
    cut = max(prefix.rfind(". "), prefix.rfind(".\n"), prefix.rfind(":\n\n"), prefix.rfind("```\n"))
    return prefix[: cut + 1] if cut >= 0 else ""
