"""Operations (admin): the Stripe webhook inbox with replay, notices whose legal window
is closing, failed notices, the audit log (paged) and live staff sessions (end them).

Everything here reads and acts through the same services as the staff API: the inbox
listing and replay are billing's (`processing.reset_for_replay`, then the process task
after the commit), alerts are `notices.alerts.alert_report`, ending sessions is
`staff.console_sessions.end_all`. Each POST is audited by the staff audit hook.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response

from membership.billing import inbox, processing
from membership.billing.models import WebhookEvent, WebhookStatus
from membership.billing.notices.alerts import alert_report
from membership.console.auth import console_page, staff
from membership.console.blueprint import bp
from membership.db import utcnow
from membership.errors import Conflict, InvalidInput, NotFound
from membership.extensions import db
from membership.mail.models import Notice, NoticeStatus
from membership.queue import enqueue_after_commit
from membership.staff import console_sessions
from membership.staff.models import AuditLog, StaffUser
from membership.unit_of_work import transactional

PAGE = 50
INBOX_STATUSES = [s.value for s in WebhookStatus]


@bp.get("/operations")
@console_page("operations:read")
def operations() -> Response:
    return redirect(url_for("console.operations_inbox"), 303)


@bp.get("/operations/inbox")
@console_page("operations:read")
def operations_inbox() -> tuple[str, int]:
    status = request.args.get("status", WebhookStatus.DEAD.value)
    if status not in INBOX_STATUSES:
        raise InvalidInput(f"Choose a status: {', '.join(INBOX_STATUSES)}.")
    rows = list(db.session.scalars(
        select(WebhookEvent).where(WebhookEvent.status == status)
        .order_by(WebhookEvent.received_at.desc(), WebhookEvent.id.desc()).limit(PAGE)))
    return render_template("console/operations_inbox.html", events=rows, status=status,
                           statuses=INBOX_STATUSES, tab="inbox"), 200


@bp.post("/operations/inbox/<int:webhook_event_id>/replay")
@console_page("operations:read", "inbox:replay")
@transactional
def replay(webhook_event_id: int) -> Response:
    row = db.session.get(WebhookEvent, webhook_event_id, with_for_update=True)
    if row is None:
        raise NotFound("No such webhook event.")
    if row.status is WebhookStatus.PROCESSING:
        raise Conflict("A worker is processing this event now; try again when it is done.")
    was = row.status.value
    processing.reset_for_replay([row.id])
    db.session.flush()
    enqueue_after_commit(inbox.PROCESS_TASK, row.id)
    flash(f"Event {row.stripe_event_id} ({row.type}) is queued again.")
    return redirect(url_for("console.operations_inbox", status=was), 303)


@bp.get("/operations/notices")
@console_page("operations:read", "notices:read")
def operations_notices() -> tuple[str, int]:
    failed = list(db.session.scalars(select(Notice).where(Notice.status == NoticeStatus.FAILED)
                                     .order_by(Notice.id.desc()).limit(PAGE)))
    return render_template("console/operations_notices.html", alerts=alert_report(utcnow()), failed=failed,
                           tab="notices"), 200


@bp.get("/operations/audit")
@console_page("operations:read", "audit:read")
def operations_audit() -> tuple[str, int]:
    """Newest first, paged backwards by id (`before`), filtered by actor or action."""
    stmt = select(AuditLog).order_by(AuditLog.id.desc()).limit(PAGE + 1)
    actor, action = request.args.get("actor", "").strip().lower()[:320], request.args.get("action", "").strip()[:64]
    before = request.args.get("before", "")
    if actor:
        stmt = stmt.where(AuditLog.actor == actor)
    if action:
        stmt = stmt.where(AuditLog.action == action)
    if before:
        if not before.isdigit() or len(before) > 18:
            raise InvalidInput("`before` is an audit entry id (a whole number).")
        stmt = stmt.where(AuditLog.id < int(before))
    rows = list(db.session.scalars(stmt))
    entries = rows[:PAGE]
    older = entries[-1].id if len(rows) > PAGE else None
    return render_template("console/operations_audit.html", entries=entries, older=older, actor=actor,
                           action=action, before=before, tab="audit"), 200


@bp.get("/operations/sessions")
@console_page("operations:read")
def operations_sessions() -> tuple[str, int]:
    return render_template("console/operations_sessions.html", sessions=console_sessions.live_sessions(),
                           tab="sessions"), 200


@bp.post("/operations/sessions/<int:staff_user_id>/end")
@console_page("operations:read", "staff_sessions:end")
@transactional
def end_sessions(staff_user_id: int) -> Response:
    user = db.session.get(StaffUser, staff_user_id)
    if user is None:
        raise NotFound("No such staff user.")
    count = console_sessions.end_all(user, actor=staff().email)
    flash(f"Ended {count} console session(s) of {user.email}.")
    return redirect(url_for("console.operations_sessions"), 303)
