"""A real Celery worker runs tasks in the app context, on Redis and on the embedded broker."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import create_engine, select, text

from membership.extensions import db
from membership.queue import enqueue
from membership.staff.models import AuditLog
from tests.support.worker import WorkerProcess, wait_until
from workers.tasks.maintenance import heartbeat


def heartbeat_seen(marker: str) -> bool:
    db.session.rollback()  # see other processes' commits
    found = db.session.scalar(select(AuditLog.id).where(AuditLog.target_id == marker))
    return found is not None


def test_worker_on_redis_runs_a_task_with_app_context(app: Flask, committed_db: None, start_worker: Any) -> None:
    marker = uuid.uuid4().hex
    worker = start_worker(queues="default")
    assert enqueue(heartbeat, marker)
    assert wait_until(lambda: heartbeat_seen(marker), timeout=60), "worker never committed the heartbeat"
    worker.stop()
    assert worker.proc is not None and worker.proc.returncode is not None


def test_enqueue_with_the_broker_down_reports_false_instead_of_raising(app_settings: dict[str, Any]) -> None:
    from membership import create_app

    down = create_app(**{**app_settings, "redis_url": "redis://127.0.0.1:1/0"})
    with down.app_context():
        assert enqueue(heartbeat, "never-sent") is False
        db.engine.dispose()


def test_embedded_default_worker_uses_the_sqlite_broker(sqlite_app: Flask, tmp_path: Path) -> None:
    """No Redis at all: the broker is kombu's SQLAlchemy transport on a SQLite file."""
    settings = sqlite_app.config["SETTINGS"]
    env = {"APP_ENV": "test", "DATABASE_URL": settings.database_url, "BROKER_URL": settings.broker_url,
           "REDIS_URL": "", "CELERY_KEY_PREFIX": "", "SECRET_KEY": settings.secret_key}
    worker = WorkerProcess(env, queues="default", concurrency=1, log_path=tmp_path / "worker.log").start()
    try:
        marker = uuid.uuid4().hex
        assert enqueue(heartbeat, marker)
        engine = create_engine(settings.database_url)
        try:
            def seen() -> bool:
                with engine.connect() as conn:
                    return conn.execute(text("SELECT 1 FROM audit_log WHERE target_id = :m"), {"m": marker}).first() is not None
            assert wait_until(seen, timeout=60), (tmp_path / "worker.log").read_text()[-2000:]
        finally:
            engine.dispose()
    finally:
        worker.stop()
