"""The beat tasks: one run at a time (advisory lock), and they commit what they find."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import text

from membership.db import utcnow
from membership.extensions import db
from membership.mail.models import Notice
from membership.mail.notices import record_notice
from membership.staff.models import AuditLog
from tests.mail.conftest import yearly_subscription
from workers.tasks.mail import alert_closing_windows, schedule_notices


def _hold_lock(name: str) -> Any:
    """Another session (as a second beat would) takes the run lock and keeps it."""
    import hashlib

    key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
    conn = db.engine.connect()
    conn.begin()
    conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
    return conn


def test_schedule_notices_skips_while_another_run_holds_the_lock(db_session: Any) -> None:
    yearly_subscription(days_to_renewal=10)
    db_session.commit()  # the skipped run rolls its own transaction back
    other = _hold_lock("mail.schedule_notices")
    try:
        assert schedule_notices.run() == {}
        assert db_session.query(Notice).count() == 0
    finally:
        other.rollback()
        other.close()
    counts = schedule_notices.run()
    assert counts["renewal_notice"] == 1
    assert schedule_notices.run()["renewal_notice"] == 0


def test_alert_task_alerts_each_closing_window_once(db_session: Any) -> None:
    sub = yearly_subscription(days_to_renewal=16)
    record_notice("renewal_notice", "stuck", "stuck@example.org", {"subscription_id": sub.id},
                  due_at=utcnow() - timedelta(days=14), window_closes_at=utcnow() + timedelta(hours=20))
    db_session.commit()
    assert alert_closing_windows.run() == 1
    assert alert_closing_windows.run() == 0
    assert db_session.query(AuditLog).filter_by(action="notice.window_alert").count() == 1
