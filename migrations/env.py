"""Alembic environment: runs inside the Flask app (Flask-Migrate) on its engine.

SQLite needs batch mode for ALTERs; our UTCDateTime and enum types render as plain
SQLAlchemy types so migration files never import application code.
"""

from __future__ import annotations

from typing import Any

from alembic import context
from flask import current_app

from membership.db import UTCDateTime

config = context.config
target_db = current_app.extensions["migrate"].db


def render_item(type_: str, obj: Any, autogen_context: Any) -> str | bool:
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def run_migrations_online() -> None:
    def skip_empty(context: Any, revision: Any, directives: list[Any]) -> None:
        if getattr(config.cmd_opts, "autogenerate", False) and directives[0].upgrade_ops.is_empty():
            directives[:] = []

    engine = target_db.engine
    conf_args = dict(current_app.extensions["migrate"].configure_args)
    conf_args.setdefault("process_revision_directives", skip_empty)
    conf_args.update(render_as_batch=engine.dialect.name == "sqlite", render_item=render_item, compare_type=True)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_db.metadata,
            **conf_args,
        )
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
