"""A renewal-law notice still unsent near its window's close alerts staff, once."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient

from membership.billing.notices.alerts import ACTION, raise_alerts
from membership.db import utcnow
from membership.enums import StaffRole
from membership.mail.models import NoticeStatus
from membership.mail.notices import record_notice
from membership.staff.models import AuditLog
from membership.staff.services import create_staff_user
from tests.mail.conftest import yearly_subscription

DAY = timedelta(days=1)


def _renewal(key: str, closes_in: timedelta, status: NoticeStatus = NoticeStatus.PENDING) -> int:
    sub = yearly_subscription(days_to_renewal=16)
    notice, _ = record_notice("renewal_notice", key, f"{key}@example.org", {"subscription_id": sub.id},
                              reader_id=sub.reader_id, due_at=utcnow() - 14 * DAY,
                              window_closes_at=utcnow() + closes_in)
    notice.status = status
    return notice.id


def test_closing_window_alerts_once_with_error_log_and_audit_row(
    db_session: Any, caplog: pytest.LogCaptureFixture
) -> None:
    stuck = _renewal("stuck", DAY)
    failed = _renewal("failed", -DAY, NoticeStatus.FAILED)  # closed yesterday, never delivered
    _renewal("sent", DAY, NoticeStatus.SENT)
    _renewal("later", 10 * DAY)
    db_session.flush()
    with caplog.at_level(logging.ERROR, logger="membership.billing.notices.alerts"):
        assert sorted(raise_alerts(utcnow())) == sorted([stuck, failed])
    assert [r.levelno for r in caplog.records].count(logging.ERROR) == 2
    rows = db_session.query(AuditLog).filter_by(action=ACTION).all()
    assert sorted(int(r.target_id) for r in rows) == sorted([stuck, failed])
    assert raise_alerts(utcnow()) == []  # once per notice


def test_staff_endpoint_lists_closing_windows_behind_a_bearer_token(client: FlaskClient, db_session: Any) -> None:
    stuck = _renewal("endpoint", DAY)
    _, token = create_staff_user("ops@example.org", StaffRole.ADMIN)
    db_session.commit()  # a refused request (the 401s below) rolls back what is uncommitted
    assert client.get("/api/staff/notice-alerts").status_code == 401
    bad = client.get("/api/staff/notice-alerts", headers={"Authorization": "Bearer stf_nope"})
    assert bad.status_code == 401 and bad.mimetype == "application/problem+json"
    ok = client.get("/api/staff/notice-alerts", headers={"Authorization": f"Bearer {token}"})
    assert ok.status_code == 200
    [alert] = ok.get_json()["alerts"]
    assert alert["notice_id"] == stuck and alert["kind"] == "renewal_notice" and alert["alerted"] is False
    assert alert["window_closed"] is False and alert["status"] == "pending"
    raise_alerts(utcnow())
    again = client.get("/api/staff/notice-alerts", headers={"Authorization": f"Bearer {token}"})
    assert again.get_json()["alerts"][0]["alerted"] is True


def test_staff_endpoint_is_a_documented_operation_for_finance_support_admin(client: FlaskClient,
                                                                             db_session: Any) -> None:
    op = client.get("/api/openapi.json").get_json()["paths"]["/api/staff/notice-alerts"]["get"]
    assert op["security"] == [{"staff.notices.read": []}]
    assert {"200", "401", "403"} <= set(op["responses"])
    _renewal("finance", -DAY, NoticeStatus.FAILED)
    _, token = create_staff_user("finance@example.org", StaffRole.FINANCE)
    db_session.commit()
    body = client.get("/api/staff/notice-alerts", headers={"Authorization": f"Bearer {token}"}).get_json()
    assert set(body) == {"generated_at", "alerts"} and body["generated_at"].endswith("+00:00")
    [alert] = body["alerts"]
    assert set(alert) == {"notice_id", "kind", "email", "reader_id", "status", "due_at", "window_closes_at",
                          "window_closed", "attempts", "last_error", "alerted"}
    assert alert["window_closed"] is True and alert["status"] == "failed"
    assert alert["due_at"].endswith("+00:00") and alert["window_closes_at"].endswith("+00:00")  # as before
