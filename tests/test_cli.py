"""Operator commands: seed the demo (idempotently) and create staff with a one-time token."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from sqlalchemy import func, select

from membership.billing.models import Plan, Price, Subscription
from membership.db import utcnow
from membership.enums import Stream
from membership.extensions import db
from membership.identity.models import Reader
from membership.reports.mrr_rollforward import roll_forward
from membership.staff.models import ApiToken, StaffUser
from membership.staff.services import staff_for_token


def test_seed_demo_creates_a_two_currency_catalogue_and_readers_once(app: Flask, db_session: object) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(args=["seed-demo", "--readers", "40", "--if-empty"])
    assert result.exit_code == 0, result.output
    assert "seeded 40 readers" in result.output
    assert db.session.scalar(select(func.count(Reader.id))) == 40 + 1  # + the reader pages' demo reader
    currencies = set(db.session.scalars(select(Price.currency).distinct()))
    assert currencies == {"USD", "EUR"}
    assert db.session.scalar(select(func.count(Plan.id))) == 4
    assert db.session.scalar(select(func.count(Subscription.id))) > 0

    again = runner.invoke(args=["seed-demo", "--readers", "40", "--if-empty"])
    assert again.exit_code == 0 and "nothing seeded" in again.output
    assert db.session.scalar(select(func.count(Reader.id))) == 40 + 1  # + the reader pages' demo reader

    # The demo's EUR memberships convert out of the box (demo rates), over its whole history.
    today = utcnow().date()
    converted = roll_forward(Stream.MEMBERSHIP, today - timedelta(days=720), today, "USD").converted
    assert converted is not None and converted.rates and converted.end_minor > 0


def test_staff_create_prints_a_token_that_authenticates(app: Flask, db_session: object) -> None:
    result = app.test_cli_runner().invoke(args=["staff", "create", "Ana@Example.org", "--role", "finance"])
    assert result.exit_code == 0, result.output
    token = result.output.strip().rsplit(" ", 1)[-1]
    user = staff_for_token(token)
    assert user is not None and user.email == "ana@example.org" and user.role.value == "finance"
    stored = db.session.scalar(select(ApiToken.token_hash))
    assert stored is not None and token not in stored
    assert staff_for_token(token + "x") is None


def test_staff_create_refuses_a_bad_role_and_a_duplicate(app: Flask, db_session: object) -> None:
    runner = app.test_cli_runner()
    bad_role = runner.invoke(args=["staff", "create", "b@example.org", "--role", "owner"])
    assert bad_role.exit_code == 2 and "owner" in bad_role.output
    assert runner.invoke(args=["staff", "create", "b@example.org", "--role", "admin"]).exit_code == 0
    dup = runner.invoke(args=["staff", "create", "b@example.org", "--role", "admin"])
    assert dup.exit_code != 0
    assert db.session.scalar(select(func.count(StaffUser.id))) == 1
