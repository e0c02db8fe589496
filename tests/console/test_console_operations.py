"""Operations (admin): the inbox with replay, notices, the audit log paged, sessions."""

from __future__ import annotations

import json

from flask.testing import FlaskClient
from sqlalchemy import select

from membership.billing.models import WebhookEvent, WebhookStatus
from membership.db import utcnow
from membership.enums import StaffRole
from membership.extensions import db
from membership.mail.models import Notice, NoticeStatus
from membership.staff.models import AuditLog
from tests.console.auth_support import csrf
from tests.console.helpers import sign_in_client, staff_user


def test_a_dead_event_is_listed_and_replayed(client: FlaskClient) -> None:
    sign_in_client(client, staff_user(StaffRole.ADMIN))
    row = WebhookEvent(stripe_event_id="evt_console_dead", type="invoice.paid", object_id="in_1", stripe_created=1,
                       payload=json.dumps({"id": "evt_console_dead"}), status=WebhookStatus.DEAD, attempts=8,
                       last_error="reader unknown")
    db.session.add(row)
    db.session.commit()
    page = client.get("/staff/operations/inbox").get_data(as_text=True)
    assert "evt_console_dead" in page and "reader unknown" in page
    resp = client.post(f"/staff/operations/inbox/{row.id}/replay", data={"csrf_token": csrf(client)})
    assert resp.status_code == 303 and resp.headers["Location"].endswith("status=dead")
    db.session.refresh(row)
    assert row.status is WebhookStatus.RECEIVED and row.attempts == 0
    assert db.session.scalars(select(AuditLog).where(AuditLog.action == "console.replay")).one().actor.startswith("admin")
    assert client.get("/staff/operations/inbox?status=bogus").status_code == 422
    assert client.post("/staff/operations/inbox/999999/replay", data={"csrf_token": csrf(client)}).status_code == 404


def test_failed_notices_and_the_audit_log_paged(client: FlaskClient) -> None:
    sign_in_client(client, staff_user(StaffRole.ADMIN))
    db.session.add(Notice(kind="renewal_notice", dedupe_key="console-failed", email="late@example.org",
                          status=NoticeStatus.FAILED, attempts=5, last_error="550 mailbox unavailable",
                          due_at=utcnow()))
    db.session.add_all(AuditLog(actor="cli", action=f"test.entry.{n}", target_type="path", target_id="x",
                                details={"n": n}) for n in range(60))
    db.session.commit()
    notices = client.get("/staff/operations/notices").get_data(as_text=True)
    assert "late@example.org" in notices and "550 mailbox unavailable" in notices
    first = client.get("/staff/operations/audit").get_data(as_text=True)
    assert "test.entry.59" in first and "Older entries" in first and "test.entry.0<" not in first
    older = first.split('before=')[1].split('"')[0]
    second = client.get(f"/staff/operations/audit?before={older}").get_data(as_text=True)
    assert "test.entry.0<" in second and "test.entry.59<" not in second
    filtered = client.get("/staff/operations/audit?action=test.entry.7").get_data(as_text=True)
    assert filtered.count("<td>test.entry.") == 1  # (the filter field shows it too)
    assert client.get("/staff/operations/audit?before=abc").status_code == 422
    sessions = client.get("/staff/operations/sessions").get_data(as_text=True)
    assert "End all of theirs" in sessions
