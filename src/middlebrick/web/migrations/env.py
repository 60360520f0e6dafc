"""Alembic's entry point for the dashboard's schema. `Store.migrate()` runs it from code with an
open connection in `config.attributes["connection"]`; there is no alembic.ini."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine

from middlebrick.web.models import Base


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters by copying tables
    )
    with context.begin_transaction():
        context.run_migrations()


def main() -> None:
    connection = context.config.attributes.get("connection")
    if context.is_offline_mode():
        context.configure(
            url=context.config.get_main_option("sqlalchemy.url"),
            target_metadata=Base.metadata,
            literal_binds=True,
        )
        with context.begin_transaction():
            context.run_migrations()
    elif isinstance(connection, Connection):
        _run(connection)
    else:
        engine = create_engine(context.config.get_main_option("sqlalchemy.url") or "")
        with engine.begin() as opened:
            _run(opened)
        engine.dispose()


main()
