"""Console sign-in and security through the test client: magic links (single use,
expiry, no tell for unknown addresses), the second factor (required for finance and
admin before any page, wrong codes refused then locked, recovery codes once), separation
from readers' sessions, roles, no-store, CSRF, audit and revocation."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from membership.console.auth import GUARD_MARK
from membership.db import utcnow
from membership.enums import StaffRole
from membership.extensions import db
from membership.staff import totp
from membership.staff.models import AuditLog, StaffSession, StaffSignInLink, StaffTotp
from tests.console.auth_support import csrf, enrolled, mailed_links, request_link, setup_key, sign_in_by_link
from tests.console.helpers import reader_signed_in, sign_in_client, staff_user

OPEN_ROUTES = {"console.home", "console.signin_post", "console.signin_link", "console.signin_link_post",
               "console.signout", "console.second_factor", "console.second_factor_post", "console.totp_setup",
               "console.totp_setup_post", "console.static"}


def test_a_magic_link_signs_in_once_and_not_after_it_expires(client: FlaskClient) -> None:
    user = staff_user(StaffRole.SUPPORT)
    path = request_link(client, user.email)
    page = client.get(path)
    assert page.status_code == 200 and "Sign me in" in page.get_data(as_text=True)
    assert page.headers["Cache-Control"] == "no-store" and page.headers["Referrer-Policy"] == "no-referrer"
    used = client.post(path, data={"csrf_token": csrf(client)})
    assert used.status_code == 303
    assert client.get("/staff/members").status_code == 200  # signed in
    again = client.post(path, data={"csrf_token": csrf(client)})
    assert again.status_code == 410 and "no longer works" in again.get_data(as_text=True)

    late = request_link(client, user.email)
    db.session.execute(update(StaffSignInLink).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    assert client.get(late).status_code == 410
    assert client.post(late, data={"csrf_token": csrf(client)}).status_code == 410


def test_an_unknown_address_gets_the_same_answer_and_no_mail(client: FlaskClient) -> None:
    staff = staff_user(StaffRole.EDITOR)
    known = client.post("/staff/signin", data={"email": staff.email, "csrf_token": csrf(client)})
    unknown = client.post("/staff/signin", data={"email": "reader@example.org", "csrf_token": csrf(client)})
    assert known.status_code == unknown.status_code == 202
    strip = lambda resp, email: resp.get_data(as_text=True).replace(email, "EMAIL")  # noqa: E731
    assert strip(known, staff.email) == strip(unknown, "reader@example.org")
    assert mailed_links("reader@example.org") == [] and len(mailed_links(staff.email)) == 1
    bad = client.post("/staff/signin", data={"email": "not an address", "csrf_token": csrf(client)})
    assert bad.status_code == 422 and "staff email address" in bad.get_data(as_text=True)


def test_finance_must_enrol_the_second_factor_before_any_page(client: FlaskClient) -> None:
    user = staff_user(StaffRole.FINANCE)
    assert sign_in_by_link(client, user.email).endswith("/staff/second-factor")
    for page in ("/staff/dashboard", "/staff/members", "/staff/home"):
        resp = client.get(page)
        assert resp.status_code == 303 and "/staff/second-factor" in resp.headers["Location"], page
    assert client.post("/staff/members/1/signin-link", data={"csrf_token": csrf(client)}).status_code == 401
    setup = client.get("/staff/second-factor", follow_redirects=True)
    html = setup.get_data(as_text=True)
    assert "Setup key" in html and '<svg role="img"' in html
    key = setup_key(html)
    assert client.get("/staff/second-factor/setup").get_data(as_text=True).count(key[:4]) >= 1  # same key on reload
    row = db.session.scalars(select(StaffTotp).where(StaffTotp.staff_user_id == user.id)).one()
    assert key not in row.secret_sealed  # sealed at rest

    wrong = client.post("/staff/second-factor/setup", data={"code": "000000", "csrf_token": csrf(client)})
    assert wrong.status_code == 422 and client.get("/staff/members").status_code == 303
    done = client.post("/staff/second-factor/setup", data={"code": pyotp.TOTP(key).now(), "csrf_token": csrf(client)})
    codes_page = done.get_data(as_text=True)
    assert done.status_code == 200 and "Your recovery codes" in codes_page and codes_page.count("<li><code>") == 10
    assert client.get("/staff/members").status_code == 200


def test_wrong_codes_are_refused_then_the_account_is_locked(client: FlaskClient) -> None:
    user = staff_user(StaffRole.ADMIN)
    app, _codes = enrolled(user)
    sign_in_client(client, user, verified=False)
    token = csrf(client)
    statuses = [client.post("/staff/second-factor", data={"code": "123456" if app.now() != "123456" else "654321",
                                                          "csrf_token": token}).status_code
                for _ in range(totp.MAX_FAILURES)]
    assert statuses == [422] * (totp.MAX_FAILURES - 1) + [429]
    locked = client.post("/staff/second-factor", data={"code": app.now(), "csrf_token": token})
    assert locked.status_code == 429 and "Too many wrong codes" in locked.get_data(as_text=True)
    assert client.get("/staff/operations/inbox").status_code == 303  # still not through
    assert db.session.scalar(select(AuditLog).where(AuditLog.action == "console.totp.locked")) is not None


def test_a_totp_code_is_accepted_once(client: FlaskClient) -> None:
    user = staff_user(StaffRole.FINANCE)
    app, _codes = enrolled(user)  # enrolment used the current step
    sign_in_client(client, user, verified=False)
    replay = client.post("/staff/second-factor", data={"code": app.now(), "csrf_token": csrf(client)})
    assert replay.status_code == 422


def test_a_recovery_code_works_once(client: FlaskClient) -> None:
    user = staff_user(StaffRole.FINANCE)
    _app, codes = enrolled(user)
    sign_in_client(client, user, verified=False)
    ok = client.post("/staff/second-factor", data={"code": codes[3].upper(), "csrf_token": csrf(client),
                                                   "next": "/staff/members"})
    assert ok.status_code == 303 and ok.headers["Location"] == "/staff/members"
    assert client.get("/staff/members").status_code == 200
    other = FlaskClient(client.application, use_cookies=True)
    sign_in_client(other, user, verified=False)
    assert other.post("/staff/second-factor", data={"code": codes[3], "csrf_token": csrf(other)}).status_code == 422
    assert totp.recovery_codes_left(user) == 9


def test_next_never_leaves_the_console(client: FlaskClient) -> None:
    user = staff_user(StaffRole.SUPPORT)
    sign_in_client(client, user)
    for target in ("https://evil.example/", "//evil.example/x", "/account"):
        resp = client.get("/staff", query_string={"next": target})
        assert resp.status_code == 303 and resp.headers["Location"] == "/staff/members", target  # support: Members


def test_a_readers_session_opens_no_console_page_and_a_staff_session_no_account(client: FlaskClient) -> None:
    reader_signed_in(client, "reader-console@example.org", "Ani")
    assert client.get("/account").status_code == 200  # the reader is signed in as a reader
    for page in ("/staff/members", "/staff/operations/inbox", "/staff/dashboard", "/staff/home"):
        resp = client.get(page)
        assert resp.status_code == 303 and resp.headers["Location"].startswith("/staff/?next="), page
    assert client.post("/staff/operations/sessions/1/end", data={"csrf_token": csrf(client)}).status_code == 401

    staff_only = FlaskClient(client.application, use_cookies=True)
    sign_in_client(staff_only, staff_user(StaffRole.ADMIN))
    assert staff_only.get("/staff/operations/inbox").status_code == 200
    assert staff_only.get("/account").status_code != 200


@pytest.mark.parametrize("role", [StaffRole.FINANCE, StaffRole.SUPPORT, StaffRole.EDITOR])
def test_admin_pages_refuse_other_roles_with_a_403_page(client: FlaskClient, role: StaffRole) -> None:
    sign_in_client(client, staff_user(role))
    for page in ("/staff/operations/inbox", "/staff/operations/audit", "/staff/operations/sessions",
                 "/staff/operations/notices"):
        resp = client.get(page)
        html = resp.get_data(as_text=True)
        assert resp.status_code == 403 and resp.mimetype == "text/html", page
        assert "operations:read" in html and "Staff console" in html
    erase = client.post("/staff/members/1/erase", data={"csrf_token": csrf(client), "confirm_email": "x"})
    assert erase.status_code == 403


def test_editor_sees_no_member_and_finance_cannot_act(client: FlaskClient) -> None:
    sign_in_client(client, staff_user(StaffRole.EDITOR))
    assert client.get("/staff/members").status_code == 403
    finance = FlaskClient(client.application, use_cookies=True)
    sign_in_client(finance, staff_user(StaffRole.FINANCE))
    assert finance.get("/staff/members").status_code == 200
    assert finance.post("/staff/members/1/signin-link", data={"csrf_token": csrf(finance)}).status_code == 403


def test_every_console_page_is_no_store(client: FlaskClient) -> None:
    user = staff_user(StaffRole.ADMIN)
    assert client.get("/staff").headers["Cache-Control"] == "no-store"
    assert client.get("/staff/members").headers["Cache-Control"] == "no-store"  # the redirect to sign in
    sign_in_client(client, user)
    for page in ("/staff/home", "/staff/members", "/staff/members?q=a", "/staff/operations/inbox",
                 "/staff/operations/audit", "/staff/operations/notices", "/staff/operations/sessions",
                 "/staff/members/999999"):
        resp = client.get(page)
        assert resp.status_code in (200, 404) and resp.headers["Cache-Control"] == "no-store", page


def test_every_console_route_is_guarded(app: Flask) -> None:
    """A new console page cannot be left open: each route's view carries console_page's mark."""
    checked = 0
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/staff") or rule.endpoint in OPEN_ROUTES:
            continue
        view = app.view_functions[rule.endpoint]
        assert getattr(view, GUARD_MARK, None), f"{rule.rule} ({rule.endpoint}) is not behind console_page"
        checked += 1
    assert checked >= 10


def test_a_post_without_the_csrf_token_is_refused_and_changes_nothing(client: FlaskClient) -> None:
    admin = staff_user(StaffRole.ADMIN)
    other = staff_user(StaffRole.SUPPORT)
    sign_in_client(client, admin)
    sign_in_client(FlaskClient(client.application, use_cookies=True), other)
    live = select(StaffSession).where(StaffSession.staff_user_id == other.id, StaffSession.revoked_at.is_(None))
    resp = client.post(f"/staff/operations/sessions/{other.id}/end", data={"csrf_token": "wrong"})
    assert resp.status_code == 403 and "CSRF" in resp.get_data(as_text=True)
    assert db.session.scalars(live).first() is not None
    assert client.post("/staff/signin", data={"email": admin.email}).status_code == 403


def test_console_writes_are_audited_with_the_staff_member(client: FlaskClient) -> None:
    admin = staff_user(StaffRole.ADMIN)
    other = staff_user(StaffRole.SUPPORT)
    sign_in_client(client, admin)
    sign_in_client(FlaskClient(client.application, use_cookies=True), other)
    resp = client.post(f"/staff/operations/sessions/{other.id}/end", data={"csrf_token": csrf(client)})
    assert resp.status_code == 303
    entry = db.session.scalars(select(AuditLog).where(AuditLog.action == "console.end_sessions")).one()
    assert (entry.actor, entry.target_type, entry.target_id) == (admin.email, "staff_user", str(other.id))
    form = entry.details.get("form", {})
    assert entry.details["via"] == "console" and isinstance(form, dict) and "csrf_token" not in form
    assert db.session.scalars(select(StaffSession).where(StaffSession.staff_user_id == other.id,
                                                         StaffSession.revoked_at.is_(None))).first() is None
    refused = client.post("/staff/operations/sessions/999999/end", data={"csrf_token": csrf(client)})
    assert refused.status_code == 404
    assert db.session.scalars(select(AuditLog).where(AuditLog.action == "console.end_sessions")).all()[-1] \
        .details["status"] == 404


def test_sign_out_ends_the_session_row(client: FlaskClient) -> None:
    user = staff_user(StaffRole.SUPPORT)
    sign_in_client(client, user)
    with client.session_transaction() as session:
        cookie_sid = session["staff_sid"]
    assert client.post("/staff/signout", data={"csrf_token": csrf(client)}).status_code == 303
    assert client.get("/staff/members").status_code == 303
    with client.session_transaction() as session:
        session["staff_sid"] = cookie_sid  # a copy of the old cookie
    assert client.get("/staff/members").status_code == 303


def test_flask_staff_end_sessions_and_reset_totp(app: Flask, db_session: Any) -> None:
    user = staff_user(StaffRole.FINANCE)
    enrolled(user)
    client = app.test_client()
    sign_in_client(client, user)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["staff", "end-sessions", user.email])
    assert result.exit_code == 0 and "ended 1 console session(s)" in result.output
    assert client.get("/staff/dashboard").status_code == 303
    result = runner.invoke(args=["staff", "reset-totp", user.email])
    assert result.exit_code == 0 and not totp.enrolled(user)
    assert runner.invoke(args=["staff", "end-sessions", "nobody@example.org"]).exit_code == 1


def test_the_demo_admin_and_its_mailed_link_sign_in(client: FlaskClient) -> None:
    from membership.demo import seed
    from membership.demo.staff import DEMO_ADMIN, demo_staff_sign_in_link

    seed(0)
    link = demo_staff_sign_in_link()
    db.session.commit()
    assert link is not None and "/staff/signin/" in link and mailed_links(DEMO_ADMIN) == [link]
    path = link[link.index("/staff/signin/"):]
    resp = client.post(path, data={"csrf_token": csrf(client)})
    assert resp.status_code == 303 and resp.headers["Location"].endswith("/staff/second-factor")  # admin: enrol first
