"""The demo outlet's staff: one admin, so `make run` leads straight into the console.

Development only prints a sign-in link (seed-demo's output); the same link is mailed,
so it also lands in the mail sink (var/mail). The admin enrols the second factor on the
first sign-in (any authenticator app, or pyotp with the `Setup key` shown)."""

from __future__ import annotations

from sqlalchemy import select

from membership.enums import StaffRole
from membership.extensions import db
from membership.staff.console_sessions import mail_link
from membership.staff.models import StaffUser
from membership.staff.services import create_staff_user

DEMO_ADMIN = "admin@demo.example"


def add_demo_admin() -> StaffUser:
    """The demo admin (idempotent). Flushes."""
    user = db.session.scalar(select(StaffUser).where(StaffUser.email == DEMO_ADMIN))
    if user is None:
        user, _token = create_staff_user(DEMO_ADMIN, StaffRole.ADMIN, "Demo Admin")
    return user


def demo_staff_sign_in_link() -> str | None:
    """A fresh console sign-in link for the demo admin (mailed too), or None without one. Flushes."""
    user = db.session.scalar(select(StaffUser).where(StaffUser.email == DEMO_ADMIN,
                                                     StaffUser.disabled_at.is_(None)))
    return mail_link(user) if user is not None else None
