"""`middlebrick serve`: the dashboard (FastAPI + htmx) on uvicorn, over the same engine."""

from __future__ import annotations

import os
import secrets
from typing import TYPE_CHECKING, Annotated

import typer

from middlebrick.cli import app, boundary, stderr
from middlebrick.errors import ConfigError

if TYPE_CHECKING:
    from middlebrick.web.store import Store


@app.command("serve")
def serve(
    host: Annotated[
        str,
        typer.Option(
            help="The address to bind. Loopback targets can be scanned only while the dashboard "
            "is bound to loopback (and not behind a TLS proxy: --secure-cookies)."
        ),
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="The port.")] = 8000,
    database_url: Annotated[
        str | None,
        typer.Option(
            "--database-url",
            help="SQLAlchemy URL of the database (default: a SQLite file in the user data "
            "directory). Env: MIDDLEBRICK_DATABASE_URL.",
            show_default=False,
        ),
    ] = None,
    allow: Annotated[
        list[str] | None,
        typer.Option(
            "--allow",
            help="Also allow scanning this private or reserved HOST[:PORT], IP or CIDR; "
            "repeatable. Env: MIDDLEBRICK_WEB_ALLOW (comma-separated).",
        ),
    ] = None,
    workers: Annotated[int | None, typer.Option(help="Scans run at once [default: 2].")] = None,
    secure_cookies: Annotated[
        bool,
        typer.Option(
            "--secure-cookies",
            help="The dashboard is served over HTTPS (by a TLS proxy): mark cookies Secure and "
            "send HSTS.",
        ),
    ] = False,
    new_key: Annotated[
        bool,
        typer.Option(
            "--new-key",
            help="Print a new key for MIDDLEBRICK_SECRET_KEY (it seals credentials of scheduled "
            "and worker scans and webhook secrets) and exit.",
        ),
    ] = False,
    init: Annotated[
        bool,
        typer.Option(
            "--init",
            help="Create the database and the first admin (its password is printed once), "
            "then exit.",
        ),
    ] = False,
    add_user: Annotated[
        str | None,
        typer.Option(
            "--add-user",
            metavar="NAME",
            help="Add a user to the database (a password is generated and printed once), then "
            "exit. Each user sees only their own targets, scans and tokens.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Run the dashboard: scans, reports, trends and API tokens in the browser."""
    if new_key:
        from cryptography.fernet import Fernet

        print(Fernet.generate_key().decode())
        return
    with boundary():
        try:
            import uvicorn
            from sqlalchemy.engine import make_url

            from middlebrick.web.app import create_app, is_loopback
            from middlebrick.web.settings import WebSettings
            from middlebrick.web.store import Store
        except ModuleNotFoundError as exc:
            raise ConfigError(
                f"the dashboard needs the web extra ({exc.name} is missing): "
                "pip install 'middlebrick[web]'"
            ) from None
        settings = WebSettings.from_env(
            os.environ,
            host=host,
            port=port,
            database_url=database_url,
            allow=tuple(allow or ()),
            workers=workers,
            secure_cookies=secure_cookies or None,
        )
        database = make_url(settings.database_url).render_as_string(hide_password=True)
        store = Store(settings.database_url, session_hours=settings.session_hours)
        try:
            store.migrate()
            if add_user is not None:
                stderr.print(
                    f"Added the user {add_user}, password {_add_user(store, add_user)} "
                    "(shown once).",
                    highlight=False,
                    markup=False,
                )
                return
            password = store.ensure_admin()
            if password is not None:
                stderr.print(
                    f"Created the first user: admin, password {password} "
                    "(shown once: keep it somewhere safe).",
                    highlight=False,
                    markup=False,
                )
            elif init:
                stderr.print("The database already has users; nothing to do.")
            if init:
                return
            if not is_loopback(settings.host) and not settings.secure_cookies:
                stderr.print(
                    f"warning: {settings.host} is not a loopback address; serve the dashboard "
                    "over HTTPS (a TLS proxy) and pass --secure-cookies, or passwords and "
                    "session cookies cross the network in clear"
                )
            netloc = f"[{settings.host}]" if ":" in settings.host else settings.host
            stderr.print(
                f"middlebrick dashboard: http://{netloc}:{settings.port}  (database: {database})",
                highlight=False,
                markup=False,
            )
            uvicorn.run(
                create_app(settings, store=store),
                host=settings.host,
                port=settings.port,
                server_header=False,  # no server name or version for scanners to read
                log_level="warning",
            )
        finally:
            store.close()


def _add_user(store: Store, name: str) -> str:
    """Create the user with a generated password; the store refuses bad or taken names."""
    password = secrets.token_urlsafe(15)
    store.create_user(name, password)
    return password
