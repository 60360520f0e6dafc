"""Fixes for the authentication and inventory checks."""

from __future__ import annotations

FIXES: dict[str, dict[str, str]] = {
    "MB-AUTH-001": {
        "flask": (
            "Add `@auth.login_required` to the view — and make forgetting it impossible: protect "
            "the whole blueprint and opt public routes out explicitly:\n\n"
            "```python\n"
            "@api.before_request\n"
            "@auth.login_required\n"
            "def require_login():\n"
            "    pass  # every route of the blueprint now needs credentials\n"
            "```"
        ),
        "fastapi": (
            "Declare the dependency on the router, not on each route: "
            "`APIRouter(dependencies=[Depends(current_user)])`, and put public routes on a "
            "separate router."
        ),
        "django": (
            "Set `DEFAULT_PERMISSION_CLASSES = ['rest_framework.permissions.IsAuthenticated']` "
            "and mark public views with `permission_classes = [AllowAny]`."
        ),
        "express": (
            "Mount the auth middleware on the router before its routes "
            "(`router.use(requireAuth)`), so a route added later cannot skip it."
        ),
        "generic": (
            "Enforce authentication for the operation, preferably deny-by-default at the router "
            "or gateway with explicit exceptions for public operations, and add a test that "
            "calls every secured operation without credentials and expects 401."
        ),
    },
    "MB-AUTH-002": {
        "generic": (
            "Make the description match the code: remove `security: []` from the operation (or "
            "make the operation public, if that was the intent)."
        ),
    },
    "MB-AUTH-003": {
        "flask": (
            "Verify credentials, never just their presence or shape. For JWTs use PyJWT with the "
            "key and an explicit algorithm list — `jwt.decode(token, key, algorithms=['HS256'])` "
            "— never `options={'verify_signature': False}`; it rejects `alg: none`, wrong "
            "signatures and expired tokens. For Basic, `check_password_hash` against the stored "
            "hash in `@auth.verify_password`."
        ),
        "generic": (
            "Validate every credential fully: JWT signature with a pinned algorithm list "
            "(reject `none`), `exp`/`nbf`, issuer and audience; passwords against a stored hash; "
            "API keys by constant-time comparison with stored keys."
        ),
    },
    "MB-AUTH-004": {
        "generic": (
            "Enforce authentication where routing happens (in the application, deny-by-default), "
            "not in a path-matching rule in front of it; normalise paths before matching "
            "(case, trailing slash, encoding, `;` parameters, dot segments); and ignore "
            "`X-Original-URL`/`X-Rewrite-URL`/`X-HTTP-Method-Override` unless a proxy you control "
            "sets them."
        ),
    },
    "MB-AUTH-005": {
        "flask": (
            "Return 401 through Flask-HTTPAuth (it adds `WWW-Authenticate: Basic realm=...`); for "
            "tokens use `HTTPTokenAuth(scheme='Bearer')` so the challenge names the declared scheme."
        ),
        "generic": (
            "Send `WWW-Authenticate` with every 401, naming the scheme the API description "
            "declares (`Bearer`, `Basic`), and remove auth layers that challenge for others."
        ),
    },
    "MB-AUTH-006": {
        "generic": (
            "Accept credentials only in the `Authorization` header (or a dedicated header for API "
            "keys); reject them in query strings, and rotate any credential that has been sent in "
            "a URL, because it is in logs now."
        ),
    },
    "MB-INV-001": {
        "generic": (
            "If the API is not public, serve its description only to authenticated users or only "
            "on an internal network (FastAPI: `openapi_url=None` in production; flasgger: protect "
            "`/apispec_1.json`)."
        ),
    },
    "MB-INV-002": {
        "generic": (
            "Retire old API versions (remove the routes, or answer 410 Gone), keep admin and "
            "debug routes off the public listener, and document every live endpoint so it is "
            "reviewed and tested."
        ),
    },
}
