"""Console test helpers: staff users and a signed-in, second-factor-verified console
session without going through the mail (the fast path for every console test except the
sign-in tests themselves, which go through the real flow)."""

from __future__ import annotations

import secrets
import time
from typing import Any

import pyotp
from flask import Flask
from flask.testing import FlaskClient

from membership.db import utcnow
from membership.enums import StaffRole
from membership.extensions import db
from membership.identity.models import Reader, ReaderSession
from membership.identity.sessions import _hash as reader_hash
from membership.staff import totp
from membership.staff.console_sessions import hash_secret
from membership.staff.models import StaffSession, StaffUser
from membership.staff.services import create_staff_user

SID_KEY, CSRF_KEY = "staff_sid", "staff_csrf"  # membership/console/auth.py


def staff_user(role: StaffRole | str, email: str | None = None, name: str = "") -> StaffUser:
    """A committed staff account (an API token is minted too, unused here)."""
    role = StaffRole(role)
    address = email or f"{role.value}-{secrets.token_hex(4)}@staff.example"
    user, _token = create_staff_user(address, role, name or f"Test {role.value.title()}")
    db.session.commit()
    return user


def _session_row(user: StaffUser, verified: bool = True) -> str:
    raw = secrets.token_urlsafe(32)
    now = utcnow()
    db.session.add(StaffSession(token_hash=hash_secret(raw), staff_user_id=user.id, created_at=now,
                                last_seen_at=now, verified_at=now if verified else None))
    db.session.commit()
    return raw


def sign_in_client(client: FlaskClient, user: StaffUser, verified: bool = True) -> str:
    """Sign the test client in to the console; returns the CSRF token its forms need."""
    raw, csrf = _session_row(user, verified), secrets.token_urlsafe(16)
    with client.session_transaction() as session:
        session[SID_KEY] = raw
        session[CSRF_KEY] = csrf
    return csrf


def session_cookie(app: Flask, values: dict[str, Any]) -> tuple[str, str]:
    """(cookie name, value) of Flask's signed session cookie holding `values`."""
    serializer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
    assert serializer is not None
    return app.config["SESSION_COOKIE_NAME"], serializer.dumps(values)


def sign_in_browser(context_or_page: Any, site: Any, user: StaffUser, verified: bool = True) -> str:
    """Give a Playwright context (or a page's context) a live console session on `site`;
    returns the CSRF token."""
    context = getattr(context_or_page, "context", context_or_page)
    raw, csrf = _session_row(user, verified), secrets.token_urlsafe(16)
    name, value = session_cookie(site.app, {SID_KEY: raw, CSRF_KEY: csrf, "_permanent": True})
    context.add_cookies([{"name": name, "value": value, "url": site.url}])
    return csrf


def reader_signed_in(client: FlaskClient, email: str, name: str = "") -> Reader:
    """A reader's own (non-staff) session on the test client: what the console must not take for staff."""
    reader = Reader(email=email, name=name)
    db.session.add(reader)
    db.session.flush()
    raw = secrets.token_urlsafe(32)
    db.session.add(ReaderSession(token_hash=reader_hash(raw), reader_id=reader.id, created_at=utcnow(),
                                 last_seen_at=utcnow()))
    db.session.commit()
    with client.session_transaction() as session:
        session["sid"] = raw
    return reader


def sign_in_browser_past_second_factor(page: Any, site: Any, user: StaffUser, path: str) -> None:
    """Open `path` in the browser as `user` WITH the second factor: their authenticator is
    enrolled beforehand (with the code of the step before, so the one typed is not a
    replay), the session starts unverified, and the browser types the app's current code
    on the real second-factor page, then lands on `path`."""
    app = pyotp.TOTP(totp.pending_secret(user))
    assert totp.confirm_enrolment(user, app.at(time.time() - 30)) is not None
    db.session.commit()
    sign_in_browser(page, site, user, verified=False)
    page.goto(path)
    page.get_by_role("heading", name="Confirm it is you").wait_for()
    page.get_by_label("Code", exact=True).fill(app.now())
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(f"**{path}")
