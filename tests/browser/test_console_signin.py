"""The console's sign-in in a real browser: a finance user signs in from the mail the
SMTP sink caught, enrols the second factor (the code computed with pyotp from the
`Setup key` shown), keeps the recovery codes, reaches the console; later signs in again
with a recovery code. A finance user and a reader's session are refused on admin pages.
axe on every page, screenshots under var/screenshots/console-*.png."""

from __future__ import annotations

from typing import Any

import pyotp
import pytest

from membership.db import utcnow
from membership.enums import StaffRole
from membership.extensions import db
from membership.identity.models import Reader
from tests.browser.harness import Site, assert_accessible, shoot
from tests.console.helpers import staff_user
from tests.support.worker import wait_until

pytestmark = pytest.mark.browser


def _look(page: Any, name: str) -> None:
    assert_accessible(page, name)
    shoot(page, name)


def _another_link(site: Site, page: Any, email: str) -> str:
    """Ask for a link again and wait for the new mail (the sink keeps the earlier ones)."""
    before = len(site.mails_to(email))
    page.goto("/staff")
    page.get_by_label("Email").fill(email)
    page.get_by_role("button", name="Email me a sign-in link").click()
    page.get_by_role("heading", name="Check your email").wait_for()
    assert wait_until(lambda: len(site.mails_to(email)) > before, timeout=60)
    return site.link_in(site.mails_to(email)[-1], "/staff/signin/")


def test_finance_signs_in_from_the_mail_and_enrols_the_second_factor(site: Site, page: Any) -> None:
    user = staff_user(StaffRole.FINANCE, "finance.person@staff.example")
    page.goto("/staff")
    page.get_by_role("heading", name="Sign in to the staff console").wait_for()
    _look(page, "console-signin")
    page.get_by_label("Email").fill(user.email)
    page.get_by_role("button", name="Email me a sign-in link").click()
    page.get_by_role("heading", name="Check your email").wait_for()
    _look(page, "console-signin-sent")

    page.goto(site.link_in(site.wait_for_mail(user.email, "sign-in link"), "/staff/signin/"))
    _look(page, "console-signin-link")
    page.get_by_role("button", name="Sign me in").click()
    page.wait_for_url("**/staff/second-factor/setup*")
    page.get_by_role("heading", name="Set up your authenticator app").wait_for()
    _look(page, "console-totp-setup")
    assert page.get_by_role("img", name="QR code of your setup key").count() == 1
    key = page.locator("dt:text-is('Setup key') + dd").inner_text().replace(" ", "")
    page.get_by_label("Code from the app").fill("000000" if pyotp.TOTP(key).now() != "000000" else "111111")
    page.get_by_role("button", name="Turn on").click()
    page.get_by_text("That code is not right").wait_for()
    page.get_by_label("Code from the app").fill(pyotp.TOTP(key).now())
    page.get_by_role("button", name="Turn on").click()
    page.get_by_role("heading", name="Your recovery codes").wait_for()
    _look(page, "console-recovery-codes")
    codes = page.locator("ul.codes code").all_inner_texts()
    assert len(codes) == 10

    page.get_by_role("link", name="I have saved them: continue").click()
    page.wait_for_url("**/staff/dashboard*")
    page.get_by_role("heading", name="Finance dashboard").wait_for()
    nav = page.get_by_role("navigation", name="Console")
    assert nav.get_by_role("link", name="Dashboard").count() == 1
    assert nav.get_by_role("link", name="Operations").count() == 0  # finance: not an admin area

    page.goto("/staff/operations/inbox")  # an admin page: refused with a page saying why
    page.get_by_role("heading", name="Forbidden").wait_for()
    assert "operations:read" in page.inner_text("main")
    _look(page, "console-forbidden")

    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("heading", name="Sign in to the staff console").wait_for()
    page.goto("/staff/members")
    page.get_by_role("heading", name="Sign in to the staff console").wait_for()

    # the second sign-in asks for the code; a recovery code stands in for the phone
    page.goto(_another_link(site, page, user.email))
    page.get_by_role("button", name="Sign me in").click()
    page.wait_for_url("**/staff/second-factor*")
    page.get_by_role("heading", name="Confirm it is you").wait_for()
    _look(page, "console-totp-verify")
    page.get_by_label("Code").fill(codes[0])
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/staff/dashboard*")


def test_a_readers_session_is_refused_on_admin_pages(site: Site, page: Any) -> None:
    reader = Reader(email="curious.reader@example.org", name="Curious Reader", email_verified_at=utcnow())
    db.session.add(reader)
    db.session.commit()
    page.goto("/signin")
    page.get_by_label("Email").fill(reader.email)
    page.get_by_role("button", name="Email me a link").click()
    page.get_by_role("heading", name="Check your email").wait_for()
    page.goto(site.link_in(site.wait_for_mail(reader.email), "/signin/"))
    page.get_by_role("button", name="Sign me in").click()
    page.wait_for_url("**/account")

    for path in ("/staff/operations/inbox", "/staff/members", "/staff/dashboard"):
        page.goto(path)
        page.get_by_role("heading", name="Sign in to the staff console").wait_for()
        assert "/staff/?next=" in page.url and "Webhook inbox" not in page.content()
    resp = page.request.post(f"{site.url}/staff/operations/sessions/1/end", form={"csrf_token": "x"})
    assert resp.status == 401
