"""Staff alerts for notices whose legal window is about to close (or closed) unsent.

A renewal notice that misses its window is a compliance problem a person must look
at (a dead SMTP relay, a bouncing address, a bug). Each such notice is alerted once:
a log line at ERROR (for the pager) and an `audit_log` row (the durable record the
staff endpoint and dashboards show). Windows that closed more than 30 days ago are
history, not alerts.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from membership.billing.notices.policy import ALERT_LEAD
from membership.extensions import db
from membership.mail.models import Notice, NoticeStatus
from membership.staff.models import AuditLog

log = logging.getLogger(__name__)
ACTION = "notice.window_alert"
HISTORY = timedelta(days=30)
UNSENT = (NoticeStatus.PENDING, NoticeStatus.FAILED)


def closing_windows(now: datetime, lead: timedelta = ALERT_LEAD, limit: int = 500) -> list[Notice]:
    """Unsent notices whose window closes within `lead` (or closed in the last 30 days)."""
    return list(db.session.scalars(
        select(Notice)
        .where(Notice.status.in_(UNSENT), Notice.window_closes_at.is_not(None),
               Notice.window_closes_at <= now + lead, Notice.window_closes_at > now - HISTORY)
        .order_by(Notice.window_closes_at, Notice.id).limit(limit)
    ))


def _alerted(ids: list[int]) -> set[int]:
    if not ids:
        return set()
    rows = db.session.scalars(
        select(AuditLog.target_id).where(AuditLog.action == ACTION, AuditLog.target_type == "notice",
                                         AuditLog.target_id.in_([str(i) for i in ids]))
    )
    return {int(r) for r in rows}


def describe(notice: Notice, now: datetime, alerted: bool) -> dict[str, Any]:
    closes = notice.window_closes_at
    return {
        "notice_id": notice.id, "kind": notice.kind, "email": notice.email, "reader_id": notice.reader_id,
        "status": notice.status.value, "due_at": notice.due_at.isoformat(),
        "window_closes_at": closes.isoformat() if closes else None,
        "window_closed": bool(closes and closes <= now), "attempts": notice.attempts,
        "last_error": notice.last_error, "alerted": alerted,
    }


def raise_alerts(now: datetime) -> list[int]:
    """Alert staff once per notice; flushes only (the task commits)."""
    notices = closing_windows(now)
    done = _alerted([n.id for n in notices])
    fresh = [n for n in notices if n.id not in done]
    for notice in fresh:
        details = describe(notice, now, True)
        log.error("notice window closing unsent",
                  extra={"alert": ACTION, **{k: v for k, v in details.items() if k != "email"}})
        db.session.add(AuditLog(actor="mail", action=ACTION, target_type="notice",
                                target_id=str(notice.id), details=details))
    db.session.flush()
    return [n.id for n in fresh]


def alert_report(now: datetime) -> list[dict[str, Any]]:
    """What the staff endpoint shows: every closing window, alerted or not yet."""
    notices = closing_windows(now)
    done = _alerted([n.id for n in notices])
    return [describe(n, now, n.id in done) for n in notices]
