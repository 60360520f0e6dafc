"""Fixes for the checks whose answer depends on the auth scheme: bogus credentials accepted
(MB-AUTH-003), a missing or wrong challenge (MB-AUTH-005), credentials taken from the query string
(MB-AUTH-006). Each framework has one text per scheme: basic, bearer, apikey, and any."""

from __future__ import annotations

from middlebrick.remediation._snippet import Fix, flask_code

_PYJWT = (
    "`jwt.decode(token, key, algorithms=['HS256'])` (PyJWT; `['RS256']` with the issuer's public "
    "key) — never `options={'verify_signature': False}` nor an algorithm read from the token's "
    "own header. It rejects `alg: none`, a wrong signature and an expired `exp`; pass "
    "`audience=` and `issuer=` to check those too, and treat `jwt.InvalidTokenError` as 401."
)
_ROTATE_QUERY = (
    "Every URL that carried a credential is in access logs, proxies and browser history: "
    "rotate those credentials."
)

FIXES: dict[str, dict[str, Fix]] = {
    "MB-AUTH-003": {
        "flask": {
            "basic": (
                "Check the password against the stored hash of the user it belongs to, and "
                "return `None` for everything else — Flask-HTTPAuth then answers 401:\n\n"
                + flask_code("basic_auth")
                + "\n\nStore `generate_password_hash(password)` when a user is created (scrypt "
                "by default in Werkzeug 3); never store or compare plain passwords."
            ),
            "bearer": (
                "Verify the token, not its shape, in `HTTPTokenAuth(scheme='Bearer')`'s "
                "`verify_token`: " + _PYJWT
            ),
            "apikey": (
                "Compare the key with stored digests in constant time and return `None` for "
                "anything else:\n\n"
                + flask_code("api_key_auth")
                + "\n\nIssue keys with `secrets.token_urlsafe(32)` and store only their SHA-256 "
                "digest."
            ),
            "any": (
                "Verify credentials, never just their presence or shape: passwords against a "
                "stored `generate_password_hash` value (`check_password_hash` in "
                "`@auth.verify_password`), JWTs with " + _PYJWT + " Compare API keys' digests in "
                "constant time."
            ),
        },
        "fastapi": {
            "basic": (
                "`HTTPBasic` only parses the header: in the dependency, look the user up and "
                "verify the password hash (argon2-cffi, pwdlib or bcrypt), or at least compare "
                "both values with `secrets.compare_digest`, and raise `HTTPException(401, "
                "headers={'WWW-Authenticate': 'Basic'})` on any mismatch."
            ),
            "bearer": (
                "`HTTPBearer` only extracts the token: decode it in the dependency with "
                + _PYJWT
                + " Raise `HTTPException(401, headers={'WWW-Authenticate': 'Bearer'})` on failure."
            ),
            "apikey": (
                "`APIKeyHeader(name='X-API-Key')` only reads the header: look the key up by its "
                "SHA-256 digest, comparing with `hmac.compare_digest`, and raise 401 when nothing "
                "matches."
            ),
            "any": (
                "FastAPI's security classes only extract credentials; your dependency must verify "
                "them: password hashes, JWT signatures with a pinned algorithm list, API keys by "
                "constant-time comparison — and raise 401 otherwise."
            ),
        },
        "django": {
            "basic": (
                "Use DRF's `BasicAuthentication` (it checks the password with Django's "
                "`authenticate()` against the hashed password) instead of a custom class that "
                "only decodes the header; a custom `authenticate()` must raise "
                "`AuthenticationFailed` or return `None`, never a user, for a wrong password."
            ),
            "bearer": (
                "Use a maintained verifier — djangorestframework-simplejwt's `JWTAuthentication` "
                "checks the signature, expiry and token type — or PyJWT's "
                + _PYJWT
                + " inside a `BaseAuthentication` subclass that raises `AuthenticationFailed`."
            ),
            "apikey": (
                "Store API keys hashed and compare in constant time (`hmac.compare_digest`), or "
                "use djangorestframework-api-key, which stores only hashed keys; raise "
                "`AuthenticationFailed` for unknown keys."
            ),
            "any": (
                "Let DRF's authentication classes verify credentials (`BasicAuthentication`, "
                "simplejwt's `JWTAuthentication`), and make custom classes raise "
                "`AuthenticationFailed` for anything they cannot verify."
            ),
        },
        "express": {
            "basic": (
                "With express-basic-auth, use `users` or an `authorizer` that compares both "
                "fields with `basicAuth.safeCompare` joined by `&` (not `&&`, so both are always "
                "compared) — or verify a bcrypt/argon2 hash with `authorizeAsync: true`; never "
                "accept any non-empty credentials."
            ),
            "bearer": (
                "Verify with jsonwebtoken: `jwt.verify(token, key, { algorithms: ['HS256'] })` "
                "throws on a bad signature, `alg: none` and an expired `exp`; `jwt.decode` "
                "verifies nothing. express-jwt requires the `algorithms` option — set it."
            ),
            "apikey": (
                "Hash the presented key with SHA-256 and compare it with the stored digests "
                "using `crypto.timingSafeEqual` (equal-length buffers); answer 401 when none "
                "matches, never accept any non-empty `X-API-Key`."
            ),
            "any": (
                "Verify every credential in the middleware: passwords against a hash, JWTs with "
                "`jwt.verify` and a pinned `algorithms` list, API keys by constant-time "
                "comparison; answer 401 otherwise."
            ),
        },
        "generic": {
            "basic": (
                "Verify the password against a slow salted hash (argon2, scrypt, bcrypt) of the "
                "user it belongs to; any other pair is a 401."
            ),
            "bearer": (
                "Validate the JWT signature with a pinned algorithm list (reject `none`), `exp` "
                "and `nbf`, issuer and audience; any other token is a 401."
            ),
            "apikey": (
                "Compare API keys in constant time with stored digests of issued keys; unknown "
                "keys are a 401."
            ),
            "any": (
                "Validate every credential fully: JWT signature with a pinned algorithm list "
                "(reject `none`), `exp`/`nbf`, issuer and audience; passwords against a stored "
                "hash; API keys by constant-time comparison with stored keys."
            ),
        },
    },
    "MB-AUTH-005": {
        "flask": {
            "basic": (
                "Answer 401 through Flask-HTTPAuth's `HTTPBasicAuth`, which adds `WWW-Authenticate: "
                'Basic realm="Authentication Required"`, or set the header yourself; '
                "`abort(401)` alone sends none."
            ),
            "bearer": (
                "Use `HTTPTokenAuth(scheme='Bearer')`, which challenges with `Bearer realm=...`, "
                "and remove the layer that challenges with another scheme (an `HTTPBasicAuth` "
                "left on a blueprint, `auth_basic` in the proxy)."
            ),
            "apikey": (
                "API keys have no standard challenge: send 401 with one that names your scheme "
                "(`HTTPTokenAuth(scheme='ApiKey', header='X-API-Key')` does), never `Basic`, "
                "which makes browsers prompt for a password."
            ),
            "any": (
                "Return 401 through Flask-HTTPAuth (it adds `WWW-Authenticate`), with the class "
                "for the declared scheme: `HTTPBasicAuth`, or `HTTPTokenAuth(scheme='Bearer')`."
            ),
        },
        "fastapi": {
            "basic": (
                "`HTTPBasic()` answers 401 with `WWW-Authenticate: Basic`; when you raise the 401 "
                "yourself after checking the password, pass `headers={'WWW-Authenticate': "
                "'Basic'}` to `HTTPException`."
            ),
            "bearer": (
                "Since FastAPI 0.122.0 `HTTPBearer` answers 401 with `WWW-Authenticate: Bearer` "
                "(before, 403 without a challenge: upgrade); raise your own failures as "
                "`HTTPException(401, headers={'WWW-Authenticate': 'Bearer'})`."
            ),
            "apikey": (
                "Since FastAPI 0.122.0 the API-key classes answer 401 with a challenge; in your "
                "own 401s name your scheme in `WWW-Authenticate`, never `Basic`."
            ),
            "any": (
                "Raise `HTTPException(401, headers={'WWW-Authenticate': '<scheme>'})` naming the "
                "declared scheme; FastAPI 0.122.0 and later do so in the security classes."
            ),
        },
        "django": {
            "basic": (
                "DRF sends `WWW-Authenticate` only when the first authentication class of the "
                "view has an `authenticate_header`: put `BasicAuthentication` first in "
                "`DEFAULT_AUTHENTICATION_CLASSES` — with `SessionAuthentication` first, "
                "unauthenticated requests get 403 without a challenge."
            ),
            "bearer": (
                "Put the token class first in `DEFAULT_AUTHENTICATION_CLASSES`: simplejwt's "
                "`JWTAuthentication` challenges with `Bearer`; DRF's `TokenAuthentication` says "
                "`Token` — subclass it with `keyword = 'Bearer'` or declare that scheme."
            ),
            "apikey": (
                "Give your API-key authentication class an `authenticate_header()` that returns "
                "your scheme name (e.g. `'ApiKey'`) and put it first, so refusals are 401 with a "
                "challenge instead of 403."
            ),
            "any": (
                "Put the class for the declared scheme first in `DEFAULT_AUTHENTICATION_CLASSES`; "
                "DRF derives both the 401 (instead of 403) and the challenge from it."
            ),
        },
        "express": {
            "basic": (
                "express-basic-auth sends the challenge only with `challenge: true` (add "
                "`realm: 'api'`)."
            ),
            "bearer": (
                "In the error handler for express-jwt's `UnauthorizedError`, "
                "`res.set('WWW-Authenticate', 'Bearer').status(401)`, and remove any Basic "
                "middleware left on the route."
            ),
            "apikey": (
                "Send `WWW-Authenticate` with a scheme of your own (`ApiKey`) on every 401 — not "
                "`Basic`, which makes browsers prompt."
            ),
            "any": (
                "Set `WWW-Authenticate` with the declared scheme on every 401 "
                "(`res.set('WWW-Authenticate', 'Bearer')`)."
            ),
        },
        "generic": {
            "basic": 'Send `WWW-Authenticate: Basic realm="api"` with every 401.',
            "bearer": (
                'Send `WWW-Authenticate: Bearer realm="api"` (with `error="invalid_token"` for '
                "bad tokens, RFC 6750) with every 401, and remove layers challenging for Basic."
            ),
            "apikey": (
                "Send a `WWW-Authenticate` naming your own scheme with every 401; never `Basic`."
            ),
            "any": (
                "Send `WWW-Authenticate` with every 401, naming the scheme the API description "
                "declares (`Bearer`, `Basic`), and remove auth layers that challenge for others."
            ),
        },
    },
    "MB-AUTH-006": {
        "flask": {
            "basic": (
                "Read credentials only from `request.authorization` (Flask-HTTPAuth reads nothing "
                "else) and delete fallbacks to `request.args['username']`/`['password']`. "
                + _ROTATE_QUERY
            ),
            "bearer": (
                "Take the token only from `Authorization: Bearer` (`HTTPTokenAuth(scheme="
                "'Bearer')`) and remove `request.args.get('access_token')` fallbacks. "
                + _ROTATE_QUERY
            ),
            "apikey": (
                "Read the key from its header (`HTTPTokenAuth(scheme='ApiKey', header="
                "'X-API-Key')`), never `request.args.get('api_key')`. " + _ROTATE_QUERY
            ),
            "any": (
                "Accept credentials only from headers (Flask-HTTPAuth) and delete every "
                "`request.args` fallback. " + _ROTATE_QUERY
            ),
        },
        "fastapi": {
            "basic": (
                "`HTTPBasic` reads only the header: remove `Query()` parameters carrying "
                "user names or passwords. " + _ROTATE_QUERY
            ),
            "bearer": (
                "Use `HTTPBearer` or `OAuth2PasswordBearer` (header only) and remove "
                "`access_token: str | None = Query(None)` fallbacks. " + _ROTATE_QUERY
            ),
            "apikey": "Use `APIKeyHeader`, not `APIKeyQuery`. " + _ROTATE_QUERY,
            "any": (
                "Take credentials only through header-based security classes (`HTTPBasic`, "
                "`HTTPBearer`, `APIKeyHeader`), never `Query()`. " + _ROTATE_QUERY
            ),
        },
        "django": {
            "basic": (
                "Authenticate with DRF's `BasicAuthentication` (header only) and remove code "
                "reading `request.GET['password']`. " + _ROTATE_QUERY
            ),
            "bearer": (
                "simplejwt reads only the `Authorization` header: remove custom classes that fall "
                "back to `request.query_params.get('token')`. " + _ROTATE_QUERY
            ),
            "apikey": (
                "Read the key from `request.headers['X-API-Key']`, not `request.query_params`. "
                + _ROTATE_QUERY
            ),
            "any": (
                "Let authentication classes read headers only; remove `request.GET` / "
                "`query_params` fallbacks. " + _ROTATE_QUERY
            ),
        },
        "express": {
            "basic": (
                "express-basic-auth reads only the header: remove `req.query.password` fallbacks. "
                + _ROTATE_QUERY
            ),
            "bearer": (
                "express-jwt reads `Authorization: Bearer` by default: do not pass a `getToken` "
                "that falls back to `req.query.token`. " + _ROTATE_QUERY
            ),
            "apikey": "Read `req.get('X-API-Key')`, never `req.query.api_key`. " + _ROTATE_QUERY,
            "any": "Read credentials from headers only, never `req.query`. " + _ROTATE_QUERY,
        },
        "generic": {
            "basic": "Accept Basic credentials only in the `Authorization` header. "
            + _ROTATE_QUERY,
            "bearer": (
                "Accept tokens only in `Authorization: Bearer` (RFC 6750 allows the query "
                "parameter only where no header can be sent). " + _ROTATE_QUERY
            ),
            "apikey": "Accept API keys only in a header (`X-API-Key`). " + _ROTATE_QUERY,
            "any": (
                "Accept credentials only in the `Authorization` header (or a dedicated header for "
                "API keys); reject them in query strings. " + _ROTATE_QUERY
            ),
        },
    },
}
