"""Which URLs the MCP server agrees to touch. An assistant can be talked (prompt-injected) into
asking for any URL, so before anything is sent the server refuses targets that are neither
loopback nor on its operator's allow-list; then it resolves the name and refuses private,
link-local and other non-public addresses unless the operator allowed them explicitly (cloud
metadata and link-local ones always).

The policy itself is `middlebrick.http.guard`'s, shared with the dashboard. A scan then runs
pinned to the addresses admitted here (`ScanConfig.pin`), so a name whose DNS answer changes
after the check (DNS rebinding) is never resolved again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from middlebrick.http.guard import Admission, Rule, TargetPolicy, ip_of, parse_rule

__all__ = ["ENV_VAR", "AllowList", "Rule", "ip_of", "parse_rule"]

ENV_VAR = "MIDDLEBRICK_MCP_ALLOW"


@dataclass(frozen=True, slots=True)
class AllowList:
    """The hosts the server may scan besides loopback, which is always allowed."""

    rules: tuple[Rule, ...] = ()

    @classmethod
    def parse(cls, entries: Iterable[str]) -> AllowList:
        return cls(tuple(parse_rule(e) for e in entries if e.strip()))

    @classmethod
    def from_options(cls, options: Iterable[str], environ: Mapping[str, str]) -> AllowList:
        """`--allow` options plus the comma-separated entries of `$MIDDLEBRICK_MCP_ALLOW`."""
        return cls.parse([*options, *environ.get(ENV_VAR, "").split(",")])

    @property
    def policy(self) -> TargetPolicy:
        return TargetPolicy(
            rules=self.rules,
            loopback=True,
            listed_only=True,
            owner="this MCP server",
            how_to_list=f"`middlebrick mcp --allow {{host}}` or {ENV_VAR}",
            how_to_permit="`--allow {host}` without a glob, or the network, e.g. "
            "`--allow 10.0.0.0/8`",
        )

    def describe(self) -> str:
        return self.policy.describe()

    async def admit(self, url: str, *, what: str = "target") -> Admission:
        """The URL and the addresses its host may be reached at, if the server may send requests
        to it; otherwise a `ConfigError` (or `TargetError` for a name that does not resolve)
        saying why, in one line. Nothing is looked up for a URL the allow-list refuses."""
        return await self.policy.admit(url, what=what)

    async def check(self, url: str, *, what: str = "target") -> str:
        """The normalised URL, if `admit` admits it."""
        return (await self.admit(url, what=what)).url
