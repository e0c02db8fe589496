"""Staff tokens: created and revoked through Flask's CLI runner, expiring (90 days by
default), refused with a 401 problem that says why, and dated by last use at most
once a minute."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Flask
from sqlalchemy import select

from membership.db import utcnow
from membership.enums import StaffRole
from membership.extensions import db
from membership.staff.models import ApiToken, AuditLog, StaffUser
from membership.staff.services import TOKEN_DAYS, create_staff_user, hash_token

URL = "/api/staff/webhook-events"


def _create(app: Flask, *args: str) -> str:
    result = app.test_cli_runner().invoke(args=["staff", "create", *args])
    assert result.exit_code == 0, result.output
    return result.output.strip().rsplit(" ", 1)[-1]


def _row(token: str) -> ApiToken:
    row = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(token)))
    assert row is not None
    db.session.refresh(row)
    return row


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_cli_creates_each_role_with_a_90_day_token_or_as_asked(app: Flask, db_session: Any) -> None:
    for role in ("admin", "finance", "editor", "support"):
        token = _create(app, f"{role}@example.org", "--role", role)
        user = db.session.scalar(select(StaffUser).where(StaffUser.email == f"{role}@example.org"))
        assert user is not None and user.role is StaffRole(role)
        left = _row(token).expires_at - utcnow()
        assert timedelta(days=TOKEN_DAYS - 1) < left <= timedelta(days=TOKEN_DAYS)
    short = _create(app, "temp@example.org", "--role", "support", "--expires-days", "7")
    assert timedelta(days=6) < _row(short).expires_at - utcnow() <= timedelta(days=7)
    runner = app.test_cli_runner()
    for bad in ("0", "367", "x"):
        refused = runner.invoke(args=["staff", "create", "x@example.org", "--role", "support", "--expires-days", bad])
        assert refused.exit_code == 2, bad
    assert runner.invoke(args=["staff", "create", "o@example.org", "--role", "owner"]).exit_code == 2


def test_an_expired_token_is_a_401_that_says_so(app: Flask, client: Any, db_session: Any) -> None:
    _user, token = create_staff_user("late@example.org", StaffRole.FINANCE)
    db.session.commit()
    assert client.get(URL, headers=_auth(token)).status_code == 200
    _row(token).expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    resp = client.get(URL, headers=_auth(token))
    assert resp.status_code == 401 and resp.mimetype == "application/problem+json"
    body = resp.get_json()
    assert body["reason"] == "expired" and "expired" in body["detail"]
    unknown = client.get(URL, headers=_auth("stf_nope")).get_json()
    assert unknown["status"] == 401 and unknown["reason"] == "unknown"
    assert client.get(URL).get_json()["reason"] == "missing"


def test_revoke_through_the_cli_ends_every_token_and_a_new_one_works(app: Flask, client: Any,
                                                                      db_session: Any) -> None:
    first = _create(app, "Leaver@Example.org", "--role", "support")
    runner = app.test_cli_runner()
    second = runner.invoke(args=["staff", "token", "leaver@example.org"]).output.strip().rsplit(" ", 1)[-1]
    for token in (first, second):
        assert client.get(URL, headers=_auth(token)).status_code == 200
    revoked = runner.invoke(args=["staff", "revoke", "LEAVER@example.org"])
    assert revoked.exit_code == 0, revoked.output
    assert "revoked 2 token(s) of leaver@example.org" in revoked.output
    for token in (first, second):
        resp = client.get(URL, headers=_auth(token))
        assert resp.status_code == 401 and resp.mimetype == "application/problem+json"
        assert resp.get_json()["reason"] == "revoked" and "revoked" in resp.get_json()["detail"]
    again = runner.invoke(args=["staff", "revoke", "leaver@example.org"])
    assert again.exit_code == 0 and "nothing revoked" in again.output
    missing = runner.invoke(args=["staff", "revoke", "nobody@example.org"])
    assert missing.exit_code == 1 and "no staff user nobody@example.org" in missing.output
    fresh = runner.invoke(args=["staff", "token", "leaver@example.org", "--expires-days", "1"])
    assert client.get(URL, headers=_auth(fresh.output.strip().rsplit(" ", 1)[-1])).status_code == 200
    actions = db.session.scalars(select(AuditLog.action).where(AuditLog.actor == "cli")).all()
    assert {"staff.create", "staff.token.issue", "staff.token.revoke"} <= set(actions)


def test_last_used_is_recorded_at_most_once_a_minute(client: Any, db_session: Any) -> None:
    _user, token = create_staff_user("busy@example.org", StaffRole.EDITOR)
    db.session.commit()
    assert _row(token).last_used_at is None
    assert client.get(URL, headers=_auth(token)).status_code == 200
    first = _row(token).last_used_at
    assert first is not None and utcnow() - first < timedelta(seconds=30)
    assert client.get(URL, headers=_auth(token)).status_code == 200
    assert _row(token).last_used_at == first  # within the minute: no write
    _row(token).last_used_at = first - timedelta(minutes=2)
    db.session.commit()
    assert client.get(URL, headers=_auth(token)).status_code == 200
    assert _row(token).last_used_at > first
