"""Fixes for the static rules, which read only the API description (MB-AUTH-007..011 and 013,
MB-ENC-013, MB-DATA-006): the fix is in the description, so every framework shares the OpenAPI
text, followed by a sentence on where that framework's description comes from."""

from __future__ import annotations

from middlebrick.remediation._snippet import Fix

# where each framework's description is written, for the sentence after the shared text
_WHERE = {
    "flask": "apispec/flask-smorest (`API_SPEC_OPTIONS`, `@blp.doc(...)`), flasgger docstrings, or a YAML file",
    "fastapi": "FastAPI generates it from the routes and their dependencies",
    "django": "drf-spectacular generates it from views and `SPECTACULAR_SETTINGS`",
    "express": "swagger-jsdoc comments (`definition` in its options) or a YAML file",
}


def _shared(text: str, **sentences: str) -> dict[str, Fix]:
    """The OpenAPI text for every framework, each followed by its own sentence."""
    fixes: dict[str, Fix] = {"generic": text}
    for framework, where in _WHERE.items():
        fixes[framework] = f"{text} In this API's description ({where}): {sentences[framework]}"
    return fixes


FIXES: dict[str, dict[str, Fix]] = {
    "MB-AUTH-007": _shared(
        "Give the operation its `security` requirement, or declare a global `security` once and "
        "mark the operations that are public on purpose with `security: []`. This rule reads the "
        "description only: make sure the code enforces the same (MB-AUTH-001 tests it).",
        flask=(
            "add `security` to that operation; in the code, `require_login` (see MB-AUTH-001) "
            "protects every endpoint missing from its public list, whatever the description says."
        ),
        fastapi=(
            "an operation lacks `security` exactly when none of its dependencies is a security "
            "class — so the code does not check credentials either. Add "
            "`dependencies=[Depends(current_user)]` (built on `HTTPBasic`, `HTTPBearer` or "
            "`APIKeyHeader`) to the route or its router."
        ),
        django=(
            "`security` follows the view's authentication classes; look at that view's "
            "`authentication_classes` and `permission_classes` overrides."
        ),
        express="add the `security` block to the operation and mount the auth middleware on the route.",
    ),
    "MB-AUTH-008": _shared(
        "Define the scheme under `components.securitySchemes` (Swagger 2.0: "
        "`securityDefinitions`) with exactly the name the requirement uses, or fix the "
        "requirement's name; run `middlebrick audit` on the description in CI.",
        flask=(
            "apispec: `spec.components.security_scheme('basicAuth', {'type': 'http', 'scheme': "
            "'basic'})`; flask-smorest: under `API_SPEC_OPTIONS['components']['securitySchemes']`."
        ),
        fastapi=(
            "FastAPI writes the requirement and the scheme from the same security class, so an "
            "undefined name comes from `openapi_extra` or a customised `app.openapi()`: fix it "
            "there."
        ),
        django=(
            "describe a custom authentication class with an `OpenApiAuthenticationExtension`, or "
            "add the scheme through `SPECTACULAR_SETTINGS['APPEND_COMPONENTS']`."
        ),
        express="define it under `components.securitySchemes` of the swagger-jsdoc `definition`.",
    ),
    "MB-AUTH-009": _shared(
        "Apply the scheme — a global `security: [{<scheme>: []}]` with `security: []` on the "
        "operations that are public on purpose, or per operation — or delete it if nothing uses "
        "it. Then check the code really requires it.",
        flask=(
            "add `security` to the operations (flask-smorest: `@blp.doc(security=[{'basicAuth': "
            "[]}])` on the blueprint's views)."
        ),
        fastapi=(
            "a scheme nobody uses was added by hand (`openapi_extra`, a customised "
            "`app.openapi()`): make the protected routes depend on the security class instead."
        ),
        django=(
            "set `SPECTACULAR_SETTINGS['SECURITY']` for a global requirement, or check the views' "
            "`authentication_classes`."
        ),
        express="add a top-level `security` to the `definition`, or per operation.",
    ),
    "MB-AUTH-010": _shared(
        "List `401` (and `403` where permissions apply) on every secured operation, preferably "
        "as a shared `components.responses.Unauthorized` (an `application/problem+json` body) "
        "referenced by each — or once as `4XX`/`default`.",
        flask="flask-smorest: `@blp.alt_response(401, description='Not authenticated')`.",
        fastapi=(
            "`APIRouter(responses={401: {'description': 'Not authenticated'}})` documents it for "
            "every route of the router."
        ),
        django="`@extend_schema(responses={401: ..., 403: ...})`, or a postprocessing hook for all.",
        express="reference a shared `components.responses.Unauthorized` from each operation.",
    ),
    "MB-AUTH-011": _shared(
        "Move credentials out of URLs: API keys `in: header` (e.g. `X-API-Key`), tokens in "
        "`Authorization: Bearer`, passwords in a POST body. Then stop accepting them in the URL "
        "(MB-AUTH-006 tests that) and rotate every credential that was sent in one.",
        flask="read the key with `HTTPTokenAuth(scheme='ApiKey', header='X-API-Key')`.",
        fastapi="use `APIKeyHeader(name='X-API-Key')` instead of `APIKeyQuery`.",
        django="read keys from `request.headers`, never `request.query_params`.",
        express="read keys with `req.get('X-API-Key')`, never `req.query`.",
    ),
    "MB-AUTH-013": _shared(
        "Protect admin operations with credentials and a role or scope (OAuth2 scopes, a role "
        "claim) and document it; if they must not be reachable from outside at all, take them "
        "off the public API and listener.",
        flask=(
            "Flask-HTTPAuth: `@auth.login_required(role='admin')` with a `@auth.get_user_roles` "
            "callback."
        ),
        fastapi=(
            "`Security(current_user, scopes=['admin'])` with `SecurityScopes`, on the admin router."
        ),
        django="`permission_classes = [IsAdminUser]` (or a custom permission) on admin views.",
        express="`adminRouter.use(requireAuth, requireRole('admin'))` before its routes.",
    ),
    "MB-ENC-013": _shared(
        "Change every `servers` URL (Swagger 2.0: `schemes`) to `https://`, keeping `http://` "
        "only for `localhost` development entries, and make the HTTP listener redirect "
        "(MB-ENC-001). With Basic or API-key schemes, a client generated for an `http://` server "
        "sends the secret in clear on every call.",
        flask="flask-smorest: `API_SPEC_OPTIONS = {'servers': [{'url': 'https://api.example.com'}]}`.",
        fastapi="`FastAPI(servers=[{'url': 'https://api.example.com'}])`.",
        django="`SPECTACULAR_SETTINGS['SERVERS'] = [{'url': 'https://api.example.com'}]`.",
        express="`definition.servers: [{ url: 'https://api.example.com' }]`.",
    ),
    "MB-DATA-006": _shared(
        "Remove password, hash, salt, secret and key properties from response schemas; where "
        "clients send them (a password on sign-up), mark them `writeOnly: true` — and make sure "
        "the code's response model leaves them out too.",
        flask=(
            "marshmallow: `fields.String(load_only=True)` for passwords, and no hash or secret "
            "fields on the dump schema."
        ),
        fastapi=(
            "separate input and output models (`UserIn` with `password`, `UserOut` without) and "
            "`response_model=UserOut`."
        ),
        django=(
            "`extra_kwargs = {'password': {'write_only': True}}` on the serializer; "
            "drf-spectacular then documents it as write-only."
        ),
        express="mark the property `writeOnly: true` and strip it in the route before `res.json`.",
    ),
}
