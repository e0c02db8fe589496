"""Joining in a real browser: a promotion code made at Stripe (through the SDK, as in its
dashboard) applied on /join, paid on stripe_sim's hosted page, /welcome, then the
membership on /account once the webhook and the worker have run; the price shown is
the amount charged; /join in Armenian; an abandoned checkout."""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

import pytest
from sqlalchemy import select

from membership.billing.gateway import stripe_client
from membership.billing.models import Subscription
from membership.demo import seed_catalogue
from membership.enums import SubscriptionStatus
from membership.extensions import db
from membership.identity.models import Reader
from tests.browser.harness import Site, assert_accessible, shoot

pytestmark = pytest.mark.browser

SIGNIN_LINK = re.compile(r"https?://\S+/signin/\S+")


def _catalogue() -> None:
    seed_catalogue()
    db.session.commit()


def _promotion_code(site: Site, percent_off: int) -> str:
    code = f"WELCOME{uuid.uuid4().hex[:5].upper()}"
    with site.app.app_context():
        client = stripe_client()
        coupon = client.v1.coupons.create(params={"percent_off": percent_off, "duration": "once"})
        client.v1.promotion_codes.create(params={"promotion": {"type": "coupon", "coupon": coupon.id}, "code": code})
    return code


def _charged(site: Site, customer_id: str) -> int:
    with site.app.app_context():
        invoices = stripe_client().v1.invoices.list(params={"customer": customer_id}).data
    return sum(int(i.amount_paid) for i in invoices)


def _wait_for_membership(email: str, timeout: float = 60) -> Subscription:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        db.session.expire_all()
        sub = db.session.scalar(select(Subscription).join(Reader, Reader.id == Subscription.reader_id)
                                .where(Reader.email == email))
        if sub is not None and sub.status is SubscriptionStatus.ACTIVE:
            return sub
        db.session.rollback()
        time.sleep(0.3)
    raise AssertionError(f"no active subscription for {email} after {timeout}s")


def _sign_in(site: Site, page: Any, email: str) -> None:
    page.goto("/signin")
    page.get_by_label("Email").fill(email)
    page.get_by_role("button", name="Email me a link").click()
    deadline = time.monotonic() + 60
    link = None
    while link is None and time.monotonic() < deadline:
        for mail in site.mails_to(email):
            body = mail.get_body(preferencelist=("plain",))
            found = SIGNIN_LINK.search(body.get_content() if body else "")
            link = found.group(0).rstrip(".,)") if found else link
        time.sleep(0.2)
    assert link is not None, "no sign-in mail"
    page.goto(link)
    page.get_by_role("button", name="Sign me in").click()
    page.wait_for_url("**/account")


def test_join_with_a_promotion_code_and_see_the_membership(site: Site, page: Any, phone: Any) -> None:
    _catalogue()
    code = _promotion_code(site, 25)
    email = "nare@example.org"

    page.goto("/")
    assert_accessible(page, "home")
    shoot(page, "home")
    page.get_by_role("link", name="Become a member").click()
    page.wait_for_url("**/join")
    assert_accessible(page, "join")
    shoot(page, "join")
    phone.goto("/join")
    shoot(phone, "join-phone")
    assert_accessible(phone, "join-phone")

    page.get_by_role("radio", name=re.compile("^Member")).check()
    page.get_by_label("Email").fill(email)
    page.get_by_label("Promo code").fill(code.lower())
    page.get_by_role("button", name="Apply").click()
    page.get_by_text("Code applied").wait_for()
    card = page.locator("label.tier", has=page.get_by_role("radio", name=re.compile("^Member")))
    shown = card.locator(".first-amount").inner_text()
    assert shown == "$7.50"
    shoot(page, "join-code-applied")

    page.get_by_role("button", name="Continue to payment").click()
    page.wait_for_url("**/checkout/cs_*")
    page.get_by_label("Card number").fill("4242424242424242")
    page.get_by_role("button", name="Subscribe").click()
    page.wait_for_url("**/welcome?session_id=*")
    page.get_by_role("heading", name="Thank you, and welcome!").wait_for()
    assert "$7.50" in page.inner_text("main")
    assert_accessible(page, "welcome")
    shoot(page, "welcome")

    sub = _wait_for_membership(email)
    reader = db.session.get(Reader, sub.reader_id)
    assert reader is not None and reader.stripe_customer_id
    assert _charged(site, reader.stripe_customer_id) == 750  # the price shown is the price charged

    _sign_in(site, page, email)
    assert "You are a member" in page.inner_text("main")
    shoot(page, "account-after-join")


def test_join_in_armenian_desktop_and_phone(site: Site, page: Any, phone: Any) -> None:
    _catalogue()
    page.goto("/join?lang=hy")
    assert page.locator("html").get_attribute("lang") == "hy"
    page.get_by_role("button", name="Անցնել վճարման").wait_for()
    assert page.get_by_label("Էլ. փոստ").count() == 1
    assert_accessible(page, "join-hy")
    shoot(page, "join-hy")
    page.get_by_role("link", name="Տարեկան").click()  # the switch, in place (JS)
    assert page.locator(".choices[data-interval=year]").is_visible()
    assert "/join?lang=hy" in page.url  # no reload: the script toggled the tiers
    shoot(page, "join-hy-yearly")
    phone.goto("/join?lang=hy")
    assert_accessible(phone, "join-hy-phone")
    shoot(phone, "join-hy-phone")
    phone.goto("/?lang=hy")
    shoot(phone, "home-hy-phone")


def test_an_abandoned_checkout_says_nothing_was_charged(site: Site, page: Any) -> None:
    _catalogue()
    page.goto("/join?interval=year")
    page.get_by_label("Email").fill("gor@example.org")
    page.get_by_role("button", name="Continue to payment").click()
    page.wait_for_url("**/checkout/cs_*")
    page.get_by_role("link", name="Cancel").click()
    page.wait_for_url("**/checkout/cancelled?from=join")
    page.get_by_role("heading", name="You have not been charged").wait_for()
    assert_accessible(page, "checkout-cancelled")
    shoot(page, "checkout-cancelled")
    page.get_by_role("link", name="Go back and try again").click()
    page.wait_for_url("**/join")
    page.goto("/checkout/failed")
    assert_accessible(page, "checkout-failed")
    shoot(page, "checkout-failed")
