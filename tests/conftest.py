"""Shared fixtures: a fresh PostgreSQL database migrated once per run, a savepoint
per test, real Redis (keys prefixed per run), an SMTP sink, the Stripe simulator on
loopback, and real Celery worker processes on demand.
"""

from __future__ import annotations

import os
import secrets
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_sqlalchemy.session import _app_ctx_id
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import scoped_session, sessionmaker

from membership import connections, create_app
from membership.extensions import db
from tests.support import services
from tests.support.worker import WorkerProcess

WEBHOOK_SECRET = "whsec_test_secret_for_the_suite"
STRIPE_KEY = "sk_test_suite"
# One random signing key per test run, shared by the app and its worker processes
# (a worker renders unsubscribe links and decrypts notice secrets the app made).
SUITE_SECRET_KEY = secrets.token_urlsafe(48)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    name = services.create_database()
    yield services.sqlalchemy_url(name)
    services.drop_database(name)


@pytest.fixture(scope="session")
def redis_url() -> str:
    services.check_redis()
    return services.REDIS_URL


@pytest.fixture(scope="session")
def ports() -> dict[str, int]:
    """Ports reserved up front so the app's settings can name servers started later."""
    return {"smtp": free_port(), "stripe": free_port()}


@pytest.fixture(scope="session")
def app_settings(pg_database: str, redis_url: str, ports: dict[str, int]) -> dict[str, Any]:
    return {
        "mode": "test",
        "database_url": pg_database,
        "redis_url": redis_url,
        "broker_key_prefix": f"test{os.getpid()}{uuid.uuid4().hex[:4]}:",
        "stripe_api_base": f"http://127.0.0.1:{ports['stripe']}",
        "stripe_secret_key": STRIPE_KEY,
        "stripe_webhook_secret": WEBHOOK_SECRET,
        "secret_key": SUITE_SECRET_KEY,
        "smtp_url": f"smtp://127.0.0.1:{ports['smtp']}",
        "public_url": "http://localhost",
    }


@pytest.fixture(scope="session")
def app(app_settings: dict[str, Any]) -> Iterator[Flask]:
    application = create_app(**app_settings)
    with application.app_context():
        from flask_migrate import upgrade

        upgrade()
        db.session.remove()
    yield application
    with application.app_context():
        db.engine.dispose()


def worker_env(settings: dict[str, Any]) -> dict[str, str]:
    """The same settings as the test app, as the environment a worker process reads."""
    return {
        "APP_ENV": "test",
        "DATABASE_URL": settings["database_url"],
        "REDIS_URL": settings["redis_url"],
        "CELERY_KEY_PREFIX": settings["broker_key_prefix"],
        "STRIPE_API_BASE": settings["stripe_api_base"],
        "STRIPE_SECRET_KEY": settings["stripe_secret_key"],
        "STRIPE_WEBHOOK_SECRET": settings["stripe_webhook_secret"],
        "SECRET_KEY": settings["secret_key"],
        "SMTP_URL": settings["smtp_url"],
        "PUBLIC_URL": settings["public_url"],
    }


@pytest.fixture
def db_session(app: Flask) -> Iterator[scoped_session[Any]]:
    """Each test inside one outer transaction; the code's commits become savepoints."""
    with app.app_context():
        connection = db.engine.connect()
        outer = connection.begin()
        original = db.session
        # A plain Session: Flask-SQLAlchemy's own Session.get_bind ignores a session-level bind.
        factory = sessionmaker(bind=connection, join_transaction_mode="create_savepoint")
        db.session = scoped_session(factory, scopefunc=_app_ctx_id)
        # Autocommit statements (the webhook inbox) join the test's transaction too.
        original_autocommit = connections.autocommit_connection
        connections.autocommit_connection = _session_connection
        try:
            yield db.session
        finally:
            connections.autocommit_connection = original_autocommit
            db.session.remove()
            db.session = original
            outer.rollback()
            connection.close()


@contextmanager
def _session_connection() -> Iterator[Connection]:
    yield db.session.connection()


@pytest.fixture
def client(app: Flask, db_session: Any) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def committed_db(app: Flask) -> Iterator[None]:
    """For tests whose other processes (workers, gunicorn) must see committed rows.

    Empties every table afterwards, so it never leaks into savepoint tests.
    """
    with app.app_context():
        yield
        db.session.remove()
        _empty_every_table()


def _empty_every_table(tries: int = 5) -> None:
    """TRUNCATE locks every table at once; a live site's worker or web process still finishing
    a late webhook may hold some of them in another order, and PostgreSQL then picks one side
    as a deadlock victim. When that is the TRUNCATE, the other side has gone on: try again."""
    tables = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
    for attempt in range(1, tries + 1):
        try:
            with db.engine.begin() as conn:
                conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
            return
        except OperationalError as exc:
            if attempt == tries or "deadlock detected" not in str(exc):
                raise
            time.sleep(0.2 * attempt)


@pytest.fixture(scope="session")
def smtp_sink(ports: dict[str, int]) -> Iterator[Any]:
    """One aiosmtpd server for the run on the port the app's SMTP_URL names."""
    from membership.mail.sink import MemorySink, start_sink

    sink = MemorySink()
    controller = start_sink(sink, ports["smtp"])
    yield sink
    controller.stop()


@pytest.fixture
def mailbox(smtp_sink: Any) -> Any:
    """The sink, emptied before the test."""
    with smtp_sink.lock:
        smtp_sink.messages.clear()
        smtp_sink.fail_rcpt.clear()
    return smtp_sink


@pytest.fixture(scope="session")
def stripe_sim(ports: dict[str, int]) -> Iterator[Any]:
    """The offline Stripe on the port the app's STRIPE_API_BASE names."""
    from stripe_sim import SimServer

    sim = SimServer(port=ports["stripe"], webhook_secret=WEBHOOK_SECRET).start()
    yield sim
    sim.stop()


@pytest.fixture
def start_worker(app_settings: dict[str, Any], tmp_path: Path) -> Iterator[Callable[..., WorkerProcess]]:
    """Start real Celery worker processes; all are stopped after the test."""
    started: list[WorkerProcess] = []

    def _start(queues: str | None = None, concurrency: int = 2, **env: str) -> WorkerProcess:
        kwargs: dict[str, Any] = {"concurrency": concurrency, "log_path": tmp_path / f"worker{len(started)}.log"}
        if queues:
            kwargs["queues"] = queues
        worker = WorkerProcess({**worker_env(app_settings), **env}, **kwargs).start()
        started.append(worker)
        return worker

    yield _start
    for worker in started:
        worker.stop()


@pytest.fixture
def sqlite_app(tmp_path: Path, ports: dict[str, int]) -> Iterator[Flask]:
    """The embedded default (SQLite file, broker on SQLite, no Redis) for the core path;
    Stripe and SMTP point at the same simulator and sink ports as the main app."""
    application = create_app(
        mode="test",
        database_url=f"sqlite:///{tmp_path / 'app.db'}",
        broker_url=f"sqla+sqlite:///{tmp_path / 'broker.db'}",
        redis_url=None,
        stripe_api_base=f"http://127.0.0.1:{ports['stripe']}",
        stripe_secret_key=STRIPE_KEY,
        stripe_webhook_secret=WEBHOOK_SECRET,
        secret_key=SUITE_SECRET_KEY,
        smtp_url=f"smtp://127.0.0.1:{ports['smtp']}",
        public_url="http://localhost",
    )
    with application.app_context():
        from flask_migrate import upgrade

        upgrade()
        yield application
        db.session.remove()
        db.engine.dispose()
