"""How the app holds its database connections: pool options, the idle ping, and the
autocommit connection for single-statement hot paths.

Why not `pool_pre_ping`: it spends a `SELECT 1` round trip on every checkout, about
a tenth of the webhook endpoint's CPU under load, to protect against a connection
that died while it sat in the pool. A connection checked in a moment ago is as alive
as one just pinged, so only connections idle for longer than `IDLE_PING_AFTER_S` are
pinged; a dead one is replaced before the request sees it (the pool retries the
checkout with a fresh connection). A connection that dies while in use is the
ordinary disconnect case: SQLAlchemy invalidates the whole pool's older connections,
so one statement fails (503 where it matters: the webhook) and the next checkout is
fresh.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask, current_app
from sqlalchemy import Engine, event
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.pool import ConnectionPoolEntry

from membership.extensions import db

IDLE_PING_AFTER_S = 1.0
_CHECKED_IN_AT = "membership_checked_in_at"
_AUTOCOMMIT_EXT = "membership_autocommit_engine"


def engine_options(url: str) -> dict[str, Any]:
    """SQLAlchemy engine options for a database URL (SQLite waits on a busy file)."""
    if url.startswith("sqlite"):
        return {"connect_args": {"timeout": 30}}
    return {"connect_args": {"connect_timeout": 3}}


def init_app(app: Flask) -> None:
    """After `db.init_app`: ping idle pooled connections (not SQLite: a file never goes away)."""
    with app.app_context():
        engine = db.engine
        if engine.dialect.name != "sqlite":
            ping_when_idle(engine)
        app.extensions[_AUTOCOMMIT_EXT] = engine.execution_options(isolation_level="AUTOCOMMIT")


def ping_when_idle(engine: Engine, idle_after: float = IDLE_PING_AFTER_S) -> None:
    """Ping a connection on checkout only when it sat in the pool for `idle_after` seconds."""

    @event.listens_for(engine, "checkin")
    def _note_checkin(dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        record.info[_CHECKED_IN_AT] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_connection: Any, record: ConnectionPoolEntry, proxy: Any) -> None:
        checked_in_at = record.info.get(_CHECKED_IN_AT)
        if checked_in_at is None or time.monotonic() - checked_in_at < idle_after:
            return  # fresh from connect(), or used a moment ago
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as exc:
            raise DisconnectionError(f"pooled connection died while idle: {exc}") from exc


@contextmanager
def autocommit_connection() -> Iterator[Connection]:
    """A pooled connection whose statements commit on their own, outside the ORM session.

    For hot paths that are one statement: it saves the BEGIN and COMMIT round trips and
    the session's bookkeeping. Tests that run inside a savepoint replace this function
    with one yielding the test's connection (tests/conftest.py), so call it through the
    module (`connections.autocommit_connection()`), not a from-import.
    """
    engine: Engine = current_app.extensions[_AUTOCOMMIT_EXT]
    with engine.connect() as conn:
        yield conn
