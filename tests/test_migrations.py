"""The models and the migrations agree, and the history runs up, down and up again."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from membership import create_app
from membership.extensions import db
from tests.support import services


@pytest.fixture
def scratch_pg_app(app_settings: dict[str, Any]) -> Iterator[Flask]:
    name = services.create_database()
    app = create_app(**{**app_settings, "database_url": services.sqlalchemy_url(name)})
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()
    services.drop_database(name)


def schema_diff() -> list[Any]:
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(context, db.metadata))


def round_trip() -> None:
    upgrade()
    assert schema_diff() == []
    downgrade(revision="base")
    assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
    upgrade()
    assert schema_diff() == []
    assert "readers" in inspect(db.engine).get_table_names()


def test_postgres_round_trip_and_no_drift(scratch_pg_app: Flask) -> None:
    round_trip()


def test_sqlite_round_trip_and_no_drift(sqlite_app: Flask) -> None:
    downgrade(revision="base")
    round_trip()
