"""Fixes for what response bodies carry: personal data, secrets, password hashes, echoed
credentials, undeclared properties, credentials in returned URLs (MB-DATA-011..015, 017)."""

from __future__ import annotations

from middlebrick.remediation._snippet import Fix, per_scheme

FIXES: dict[str, dict[str, Fix]] = {
    "MB-DATA-011": {
        "flask": (
            "Serialise through a schema that lists what each caller may see (marshmallow "
            "`only=`/`exclude=`), return other people's contact details only to callers entitled "
            "to them, and mask card numbers, IBANs and national ids (`'•••• ' + pan[-4:]`)."
        ),
        "fastapi": (
            "Declare a `response_model` per audience (FastAPI drops fields the model lacks) and "
            "mask card numbers, IBANs and national ids in a validator or `@field_serializer`."
        ),
        "django": (
            "Use serializers with explicit `fields` per audience and a `SerializerMethodField` "
            "that masks card numbers and IBANs; filter querysets to the caller's own records."
        ),
        "express": (
            "Map records to a response shape per audience before `res.json`, masking card "
            "numbers, IBANs and national ids, and query only the caller's own records."
        ),
        "generic": (
            "Return personal data only to callers entitled to it, and only the fields they need; "
            "mask card numbers (last four digits), IBANs and national ids in responses."
        ),
    },
    "MB-DATA-012": {
        "flask": (
            "Never put credentials in responses: read them server-side (`os.environ`, a secret "
            "store) and leave them out of every schema and `jsonify(...)`; a `/config` route "
            "returns public settings only. Revoke and rotate every key that was returned."
        ),
        "fastapi": (
            "Keep secrets out of response models (`pydantic_settings.BaseSettings` fields typed "
            "`SecretStr` are never returned by accident), return public settings only, and "
            "rotate every key that was returned."
        ),
        "django": (
            "Keep secrets in settings loaded from the environment and out of serializers; never "
            "serialize `settings` or model fields holding keys. Rotate every key that was returned."
        ),
        "express": (
            "Read secrets from `process.env` on the server only; never `res.json(config)` or "
            "return key fields. Rotate every key that was returned."
        ),
        "generic": (
            "Never send credentials in API responses; load them server-side from a secret store. "
            "Revoke and rotate every key that was returned."
        ),
    },
    "MB-DATA-013": {
        "flask": (
            "Exclude password fields from every response schema (marshmallow `load_only=True`, "
            "pydantic `exclude`), and store passwords only as `generate_password_hash(...)` hashes "
            "(see `basic_auth` under MB-AUTH-003 for checking them)."
        ),
        "fastapi": (
            "Return a `UserOut` model without the password or hash (`response_model=UserOut`), "
            "and store passwords as argon2 or bcrypt hashes (argon2-cffi, pwdlib), never "
            "reversibly."
        ),
        "django": (
            "Leave `password` out of serializer `fields` (or `write_only=True`), and set passwords "
            "only with `user.set_password(...)`, which stores Django's salted hash."
        ),
        "express": (
            "Strip the field before responding (mongoose: `select: false` on the path); hash "
            "passwords with argon2 or bcrypt, never store them reversibly."
        ),
        "generic": (
            "Never return password hashes or passwords; store passwords with a slow salted hash "
            "(argon2, scrypt, bcrypt) and mark the field write-only in the API description."
        ),
    },
    "MB-DATA-014": {
        framework: per_scheme(
            text,
            basic=(
                "Never return the password or the `Authorization` header: a sign-in answers "
                "with the user's profile or a session token. An API that can return a user's "
                "password stores it reversibly — hash it, and change the passwords that were "
                "echoed."
            ),
            bearer=(
                "Never echo the token (a `whoami` returning `Authorization`, a debug endpoint "
                "mirroring headers); return the claims the client needs instead."
            ),
            apikey=(
                "Show an API key once, when it is created, and never again: store its digest, "
                "and return only a prefix (`key_8f3a…`) to identify it later."
            ),
        )
        for framework, text in {
            "flask": (
                "Build responses from an explicit schema, never from `request.headers`, "
                "`request.authorization` or the stored credential record."
            ),
            "fastapi": (
                "Build responses from a `response_model` that has no credential fields, never "
                "from `request.headers` or the credential record."
            ),
            "django": (
                "Build responses from serializers without credential fields, never from "
                "`request.META`/`request.headers` or the token model."
            ),
            "express": (
                "Build responses from explicit fields, never from `req.headers` or the "
                "credential record."
            ),
            "generic": (
                "Do not echo credentials: build responses from an explicit response schema, "
                "never from the request or from the stored credential record."
            ),
        }.items()
    },
    "MB-DATA-015": {
        "flask": (
            "Serialise through an explicit schema (marshmallow/pydantic response model) instead of "
            "`jsonify(model.__dict__)`, and keep the OpenAPI response schema in step with it."
        ),
        "fastapi": (
            "Set `response_model` on every operation (FastAPI then returns only its fields and "
            "documents exactly those), instead of returning ORM objects or dicts unfiltered."
        ),
        "django": (
            "List serializer `fields` explicitly instead of `fields = '__all__'`, so a new column "
            "is not returned until someone decides it should be."
        ),
        "express": (
            "Pick the documented fields before `res.json` (or validate responses against the "
            "schema in tests) instead of returning whole rows."
        ),
        "generic": (
            "Return only the properties the response schema declares: serialise through a "
            "response model, and document (or remove) anything else."
        ),
    },
    "MB-DATA-017": {
        "flask": (
            "Never put a credential in a URL you return: send reset and login tokens by e-mail and "
            "accept them in a POST body, put API keys and session ids in headers or cookies, and "
            "build `Location` and `Link` URLs with `url_for(...)` from non-secret ids only. "
            "Rotate the tokens that were handed out."
        ),
        "fastapi": (
            "Build `RedirectResponse` and `Link` URLs (`request.url_for(...)`) from non-secret "
            "ids only; deliver reset and login tokens out of band and accept them in a POST body. "
            "Rotate the tokens that were handed out."
        ),
        "django": (
            "Build redirect and link URLs with `reverse()` from non-secret ids; deliver reset "
            "tokens by e-mail (Django's password reset does) and never add API keys or session "
            "ids to query strings. Rotate the tokens that were handed out."
        ),
        "express": (
            "Never append tokens, keys or session ids to `res.redirect(...)` or `Link` URLs; carry "
            "them in headers, cookies or POST bodies. Rotate the tokens that were handed out."
        ),
        "generic": (
            "Keep credentials out of URLs the API returns (redirects, `Link` headers, links in "
            "bodies): carry them in headers, cookies or POST bodies, and rotate those exposed."
        ),
    },
}
