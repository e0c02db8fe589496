"""The pool's idle ping against a real PostgreSQL: a connection that died while it sat
in the pool is replaced before anyone uses it; one used a moment ago is trusted.

The server side kills the pooled connection with pg_terminate_backend, which is what
a database restart or an idle-timeout does to it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import OperationalError

from membership import connections
from membership.extensions import db


@pytest.fixture
def one_connection_engine(pg_database: str) -> Iterator[Engine]:
    engine = create_engine(pg_database, pool_size=1, max_overflow=0,
                           **connections.engine_options(pg_database))
    yield engine
    engine.dispose()


def _backend_pid(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(text("SELECT pg_backend_pid()")))


def _terminate(admin_url: str, pid: int) -> None:
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            assert conn.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}) is True
            for _ in range(100):  # the backend exits asynchronously
                if not conn.scalar(text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}):
                    return
                time.sleep(0.02)
    finally:
        admin.dispose()


def test_a_connection_killed_while_idle_is_replaced_before_use(one_connection_engine: Engine,
                                                                pg_database: str) -> None:
    connections.ping_when_idle(one_connection_engine, idle_after=0.05)
    killed = _backend_pid(one_connection_engine)
    _terminate(pg_database, killed)
    time.sleep(0.1)  # longer than idle_after: the next checkout pings

    replacement = _backend_pid(one_connection_engine)  # no error reaches the caller

    assert replacement != killed


def test_a_connection_used_a_moment_ago_is_not_pinged(one_connection_engine: Engine, pg_database: str) -> None:
    """The trade the module docstring describes: within the idle window a dead connection
    costs one failed statement, and the pool is fresh for the next one."""
    connections.ping_when_idle(one_connection_engine, idle_after=60)
    killed = _backend_pid(one_connection_engine)
    _terminate(pg_database, killed)

    with pytest.raises(OperationalError):
        _backend_pid(one_connection_engine)

    assert _backend_pid(one_connection_engine) != killed


def test_the_app_engine_pings_idle_connections_and_has_no_per_checkout_ping(app: Flask) -> None:
    with app.app_context():
        pool: Any = db.engine.pool
        assert pool._pre_ping is False
        assert any(getattr(fn, "__name__", "") == "_ping_if_idle" for fn in pool.dispatch.checkout)
