"""The migrated role column takes the four roles and nothing else, on both databases
(migration 0008 swaps the CHECK; SQLite through batch mode)."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from membership.db import utcnow
from membership.extensions import db

INSERT = text("INSERT INTO staff_users (email, name, role, created_at) VALUES (:email, '', :role, :at)")


def _roles_accepted() -> None:
    for role in ("admin", "finance", "editor", "support"):
        db.session.execute(INSERT, {"email": f"{role}@example.org", "role": role, "at": utcnow()})
    db.session.flush()
    with pytest.raises(IntegrityError), db.session.begin_nested():
        db.session.execute(INSERT, {"email": "owner@example.org", "role": "owner", "at": utcnow()})


def test_postgres_role_check(db_session: Any) -> None:
    _roles_accepted()


def test_sqlite_role_check(sqlite_app: Flask) -> None:
    _roles_accepted()
    db.session.rollback()
