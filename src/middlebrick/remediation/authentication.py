"""Fixes for the runtime authentication checks that do not depend on the scheme (MB-AUTH-001, 002,
004, 012) and for the inventory checks (MB-INV-001, 002)."""

from __future__ import annotations

from middlebrick.remediation._snippet import Fix, flask_code

FIXES: dict[str, dict[str, Fix]] = {
    "MB-AUTH-001": {
        "flask": (
            "Make authentication the app's default instead of a decorator each view must "
            "remember: one `before_request` hook demands credentials for every endpoint except an "
            "explicit public allow-list (Flask-HTTPAuth answers with its 401 and challenge):\n\n"
            + flask_code("require_login")
            + "\n\nCall `require_login(app, auth, public={'index', 'health', 'static'})` right "
            "after creating `auth`; a view added later is then protected unless someone decides "
            "otherwise. Add a test that requests every secured route without credentials and "
            "expects 401."
        ),
        "fastapi": (
            "Declare the dependency on the router, not on each route: "
            "`APIRouter(dependencies=[Depends(current_user)])` for everything protected, and a "
            "separate router for the few public operations (health, login). The dependency runs "
            "for every route of the router, including routes added later, and FastAPI then "
            "documents their `security` too."
        ),
        "django": (
            "With Django REST framework, set `'DEFAULT_PERMISSION_CLASSES': "
            "['rest_framework.permissions.IsAuthenticated']` in `REST_FRAMEWORK` and mark only "
            "the public views with `permission_classes = [AllowAny]`; look for views that "
            "override `permission_classes` (an empty list opens the view). For plain Django "
            "views, Django 5.1's `django.contrib.auth.middleware.LoginRequiredMiddleware` "
            "requires login everywhere and `@login_not_required` marks the exceptions (it "
            "redirects to `LOGIN_URL`, which suits pages better than JSON clients)."
        ),
        "express": (
            "Mount the authentication middleware ahead of the routes it protects — "
            "`app.use('/api', requireAuth, apiRouter)` or `router.use(requireAuth)` as the first "
            "line of the router — and register the public routes (health, login) before it. "
            "Middleware only runs for routes registered after it, so a route defined above the "
            "`use` line is open."
        ),
        "generic": (
            "Enforce authentication for the operation, preferably deny-by-default at the router "
            "or gateway with explicit exceptions for public operations, and add a test that "
            "calls every secured operation without credentials and expects 401."
        ),
    },
    "MB-AUTH-002": {
        "flask": (
            "Make the description match the code. If the operation is meant to be public, drop "
            "its `@auth.login_required` (or add its endpoint to `require_login`'s public list); "
            "if it is protected, remove `security: []` from it — in the YAML file, or in the "
            "docstring or decorator your generator reads (flasgger, apispec, flask-smorest's "
            "`@blp.doc(security=[])`)."
        ),
        "fastapi": (
            "FastAPI documents an operation's `security` from its security dependencies "
            "(`HTTPBasic`, `HTTPBearer`, `APIKeyHeader`, `OAuth2PasswordBearer`). If the "
            "operation is public, remove the credential check; if it is protected, remove the "
            "`security: []` override (`openapi_extra` or a customised `app.openapi()`) and check "
            "credentials through one of those classes, so the description follows the code."
        ),
        "django": (
            "If the operation is public, give the view `permission_classes = [AllowAny]`; if it "
            "is protected, remove whatever marks it public in the schema — an `extend_schema` "
            "(drf-spectacular) or `swagger_auto_schema` (drf-yasg) override, or a hand-edited "
            "schema file — so the generated description follows the view's authentication."
        ),
        "express": (
            "Remove `security: []` from the operation (swagger-jsdoc comment or YAML) if the "
            "route really requires credentials, or take the auth middleware off the route if it "
            "is meant to be public; keep the description next to the router it documents."
        ),
        "generic": (
            "Make the description match the code: remove `security: []` from the operation (or "
            "make the operation public, if that was the intent)."
        ),
    },
    "MB-AUTH-004": {
        "flask": (
            "Authenticate on the endpoint Flask routed to, never on the path string: the "
            "`require_login` hook (MB-AUTH-001) decides by `request.endpoint`, after Werkzeug "
            "has parsed the path, so another spelling either reaches the same endpoint (and is "
            "checked) or no endpoint at all (404). Remove WSGI middleware or proxy rules that "
            "authenticate by matching `PATH_INFO`, never rewrite the path from "
            "`X-Original-URL`/`X-Rewrite-URL`, and do not honour `X-HTTP-Method-Override` ahead "
            "of authentication. Flask serves `HEAD` with the `GET` view, so the same check "
            "covers both.\n\n" + flask_code("require_login")
        ),
        "fastapi": (
            "Protect routes with dependencies (`APIRouter(dependencies=[Depends(current_user)])`), "
            "which run for the route Starlette actually matched, rather than a middleware that "
            "compares `request.url.path` with a list of prefixes (middleware runs before routing "
            "and sees the raw spelling). Do not add middleware that rewrites the path from "
            "`X-Original-URL`/`X-Rewrite-URL` or the method from `X-HTTP-Method-Override`."
        ),
        "django": (
            "Check permissions on the resolved view — DRF `permission_classes`, "
            "`LoginRequiredMiddleware` (Django 5.1) or `@login_required` — not in a middleware "
            "that compares `request.path` with prefixes. If a path rule must stay (in the proxy), "
            "normalise first: case, trailing slash (`APPEND_SLASH` redirects), percent-encoding "
            "and `;` parameters, and never rewrite the path from `X-Original-URL`."
        ),
        "express": (
            "Mount authentication as middleware of the router it protects "
            "(`adminRouter.use(requireAdmin)`): Express matches mount paths case-insensitively "
            "and ignores a trailing slash by default, so the middleware sees every spelling the "
            "router accepts — unlike a hand-written `if (req.path === '/admin')` or a proxy rule. "
            "Register `method-override` (if at all) after authentication, and never rewrite "
            "`req.url` from `X-Original-URL`."
        ),
        "generic": (
            "Enforce authentication where routing happens (in the application, deny-by-default), "
            "not in a path-matching rule in front of it; normalise paths before matching "
            "(case, trailing slash, encoding, `;` parameters, dot segments); and ignore "
            "`X-Original-URL`/`X-Rewrite-URL`/`X-HTTP-Method-Override` unless a proxy you control "
            "sets them."
        ),
    },
    "MB-AUTH-012": {
        "flask": (
            "Decide per operation. If the data is not meant to be public, protect the view (take "
            "its endpoint off `require_login`'s public list, or add `@auth.login_required`) and "
            "declare its `security`. If it is public on purpose, return public fields only — "
            "`jsonify([{'id': u.id, 'name': u.name} for u in users])` or a marshmallow schema "
            "with `only=('id', 'name')` — never whole records. Rotate any secret it returned."
        ),
        "fastapi": (
            "Protect the operation with the auth dependency, or give the public operation its "
            "own `response_model` with the public fields only: FastAPI filters the returned "
            "object to that model, so e-mail addresses, phone numbers and hashes on the ORM "
            "object never reach the client."
        ),
        "django": (
            "Set `permission_classes = [IsAuthenticated]` on the view, or give the public view a "
            "serializer with an explicit `fields = ['id', 'name']` (never `'__all__'`) so contact "
            "details and secrets stay out of anonymous answers."
        ),
        "express": (
            "Mount the auth middleware on the route, or map records to a public shape before "
            "sending them (`res.json(users.map(({ id, name }) => ({ id, name })))`) instead of "
            "returning database rows."
        ),
        "generic": (
            "If the data is not meant to be public, require authentication for the operation "
            "and declare it. If the operation is public on purpose, return a public response "
            "schema only — no e-mail addresses, phone numbers, dates of birth, hashes or keys, "
            "and never many people's records to an anonymous caller. Rotate any secret returned."
        ),
    },
    "MB-INV-001": {
        "flask": (
            "If the API is not public, do not serve its description to anyone: flask-smorest "
            "stops serving it with `OPENAPI_URL_PREFIX = None` in production settings; with "
            "flasgger or a hand-written route, put the route behind `@auth.login_required` (or "
            "keep its endpoint off `require_login`'s public list)."
        ),
        "fastapi": (
            "`FastAPI(openapi_url=None)` in production removes the document and the docs pages "
            "that need it; to keep them for authenticated users, disable the defaults and serve "
            "`get_openapi(...)` from a route that depends on your auth dependency."
        ),
        "django": (
            "drf-spectacular: protect the schema and docs views with `SPECTACULAR_SETTINGS = "
            "{'SERVE_PERMISSIONS': ['rest_framework.permissions.IsAdminUser']}` (or pass "
            "`permission_classes` to `SpectacularAPIView.as_view`), or leave their URLs out of "
            "the production `urlpatterns`."
        ),
        "express": (
            "Mount the docs behind authentication — `app.use('/docs', requireAuth, "
            "swaggerUi.serve, swaggerUi.setup(spec))` — or only when `NODE_ENV !== "
            "'production'`; the same for a route serving `openapi.json`."
        ),
        "generic": (
            "If the API is not public, serve its description only to authenticated users or only "
            "on an internal network; if it is public, this finding is informational."
        ),
    },
    "MB-INV-002": {
        "flask": (
            "Retire what you no longer support: stop registering the old blueprint (or make it "
            "answer 410 Gone), and keep admin and debug blueprints off the public app. `flask "
            "routes` lists every live rule: compare it with the description in CI."
        ),
        "fastapi": (
            "Remove old routers from `app.include_router(...)` rather than hiding them: "
            "`include_in_schema=False` removes a route from the description but leaves it live. "
            "Compare `app.routes` with the published description in a test."
        ),
        "django": (
            "Delete the old versions' `path(...)` entries (or answer 410 Gone from a catch-all "
            "view), keep admin and debug URLs out of the production URLconf, and document every "
            "live route; `django-extensions`' `show_urls` lists them."
        ),
        "express": (
            "Unmount old routers (`app.use('/v1', v1Router)`) or answer 410 Gone from them, keep "
            "admin and debug routers off the public app, and document every live route (the "
            "`express-list-endpoints` package lists them for a CI comparison)."
        ),
        "generic": (
            "Retire old API versions (remove the routes, or answer 410 Gone), keep admin and "
            "debug routes off the public listener, and document every live endpoint so it is "
            "reviewed and tested."
        ),
    },
}
