"""The embedded default (SQLite, no Redis): finders, the send path and alerts work there too."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

from flask import Flask

from membership.billing.notices.alerts import raise_alerts
from membership.billing.notices.scheduling import schedule_due_notices, sweep_due_notices
from membership.db import utcnow
from membership.extensions import db
from membership.mail.models import Notice, NoticeStatus
from membership.mail.sending import Outcome, send_notice
from tests.factories.billing import SubscriptionFactory
from tests.mail.conftest import parse, yearly_subscription


def test_schedule_send_and_alert_on_sqlite(sqlite_app: Flask, app_settings: dict[str, Any], mailbox: Any) -> None:
    now = utcnow()
    yearly_subscription(days_to_renewal=20)
    SubscriptionFactory(stripe_created_at=now - timedelta(days=362))  # anniversary in 3 days
    db.session.commit()
    counts = schedule_due_notices(now)
    db.session.commit()
    assert counts["renewal_notice"] == 1 and counts["annual_reminder"] == 1
    assert schedule_due_notices(now)["renewal_notice"] == 0
    settings = replace(sqlite_app.config["SETTINGS"], smtp_url=app_settings["smtp_url"])
    renewal = db.session.query(Notice).filter_by(kind="renewal_notice").one()
    assert send_notice(renewal.id, settings) is Outcome.SENT
    assert parse(mailbox.messages[0].data)["Message-ID"] == renewal.message_id
    reminder = db.session.query(Notice).filter_by(kind="annual_reminder").one()
    reminder.window_closes_at = now + timedelta(hours=1)
    db.session.commit()
    assert raise_alerts(now) == [reminder.id]
    assert sweep_due_notices(now + timedelta(hours=1)) == [reminder.id]
    db.session.commit()
    db.session.refresh(renewal)
    assert renewal.status is NoticeStatus.SENT
