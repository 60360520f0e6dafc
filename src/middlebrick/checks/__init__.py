"""The check registry: every check, listed once, in the order reports show them.

A new check is one decorated function in its category's module and one line here.
"""

from __future__ import annotations

from middlebrick.checks import (
    authentication,
    configuration,
    data_exposure,
    debug_endpoints,
    encryption,
    errors,
    exposed_files,
    inventory,
    response_data,
    spec_rules,
    urls,
)
from middlebrick.checks._check import Check

ALL: tuple[Check, ...] = (
    # authentication
    authentication.secured_operation_open,
    authentication.public_operation_exposes_data,
    authentication.public_operation_demands_credentials,
    authentication.bogus_credentials_accepted,
    authentication.authentication_bypass,
    authentication.nonconforming_challenge,
    authentication.credentials_in_query_accepted,
    # encryption
    encryption.plain_http_api,
    encryption.temporary_https_redirect,
    encryption.http_answered_before_redirect,
    encryption.spoofable_https_enforcement,
    encryption.missing_hsts,
    encryption.weak_hsts,
    encryption.inconsistent_hsts,
    encryption.untrusted_certificate,
    encryption.expired_certificate,
    encryption.certificate_host_mismatch,
    encryption.legacy_tls_accepted,
    encryption.weak_ciphers_accepted,
    # data exposure
    data_exposure.cacheable_authenticated_response,
    data_exposure.cors_reflects_any_origin,
    data_exposure.cors_allows_null_origin,
    data_exposure.cors_wildcard_with_credentials,
    data_exposure.version_disclosure,
    exposed_files.exposed_sensitive_file,
    exposed_files.exposed_log_file,
    response_data.personal_data_in_response,
    response_data.secret_in_response,
    response_data.password_in_response,
    response_data.credentials_echoed,
    response_data.undeclared_response_properties,
    errors.stack_trace_in_response,
    errors.exposed_debugger,
    debug_endpoints.exposed_debug_endpoint,
    urls.credentials_in_returned_urls,
    # the API description alone (also `middlebrick audit`)
    spec_rules.unevenly_applied_security,
    spec_rules.undefined_security_scheme,
    spec_rules.unused_security_scheme,
    spec_rules.undocumented_auth_failure,
    spec_rules.credentials_in_url,
    spec_rules.public_admin_operation,
    spec_rules.plain_http_servers,
    spec_rules.secret_fields_in_responses,
    # inventory
    inventory.public_api_description,
    inventory.undocumented_endpoint,
    # configuration
    configuration.json_without_nosniff,
    configuration.json_with_wrong_content_type,
)

BY_ID: dict[str, Check] = {c.id: c for c in ALL}
