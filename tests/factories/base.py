"""The session binding every factory shares: whatever `db.session` is during the test."""

from __future__ import annotations

from factory.alchemy import SQLAlchemyModelFactory

from membership.extensions import db


class Factory(SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_factory = lambda: db.session  # noqa: E731
        sqlalchemy_session_persistence = "flush"

