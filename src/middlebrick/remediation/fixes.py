"""Fix texts per check id and framework (see the package docstring), one module per concern."""

from __future__ import annotations

from middlebrick.remediation import (
    authentication,
    configuration,
    credentials,
    data_exposure,
    hsts,
    leaks,
    responses,
    spec_rules,
    tls,
    transport,
)
from middlebrick.remediation._snippet import Fix

MODULES = (
    authentication,
    credentials,
    transport,
    hsts,
    tls,
    data_exposure,
    leaks,
    responses,
    configuration,
    spec_rules,
)

FIXES: dict[str, dict[str, Fix]] = {
    check_id: fixes for module in MODULES for check_id, fixes in module.FIXES.items()
}
