"""Fix texts per check id and framework (see the package docstring), one module per category."""

from __future__ import annotations

from middlebrick.remediation import authentication, configuration, data_exposure, encryption

FIXES: dict[str, dict[str, str]] = {
    **authentication.FIXES,
    **encryption.FIXES,
    **data_exposure.FIXES,
    **configuration.FIXES,
}
