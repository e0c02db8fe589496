"""The account in a real browser: sign in from the mail, update the card on stripe_sim's
hosted setup page, downgrade at renewal (a test clock carries the subscription past
it), cancel and resume, a receipt, and the pages in Armenian; each page is checked
with axe and saved as a screenshot on a desktop and a phone, in English and Armenian.

The member's Stripe customer lives on a test clock from its creation (the simulator
is shared by the whole run: only a test clock moves time for this customer alone).
The subscription is created through the SDK and our rows come from the webhooks,
through the real worker, as they would in production.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from sqlalchemy import select

from membership.billing.catalog import ensure_price
from membership.billing.gateway import stripe_client
from membership.billing.models import Payment, Plan, Price, Subscription
from membership.db import utcnow
from membership.demo import seed_catalogue
from membership.enums import Interval
from membership.extensions import db
from membership.identity.models import Reader
from tests.browser.harness import Site, assert_accessible, shoot
from tests.support.worker import wait_until

pytestmark = pytest.mark.browser

EMAIL = "narek@example.org"


def _price(code: str) -> Price:
    price = db.session.scalar(select(Price).join(Plan).where(Plan.code == code, Price.currency == "USD",
                                                             Price.interval == Interval.MONTH))
    assert price is not None
    return price


def _member_on_a_test_clock(plan: str = "sustainer") -> tuple[Reader, str, str]:
    """A reader whose customer is on a test clock, subscribed through the SDK; returns
    the reader, the clock and the Stripe subscription id once the webhooks made our row."""
    seed_catalogue()
    reader = Reader(email=EMAIL, name="Narek Hakobyan", email_verified_at=utcnow(), language="en")
    db.session.add(reader)
    db.session.flush()
    sdk = stripe_client()
    clock = sdk.v1.test_helpers.test_clocks.create(params={"frozen_time": int(time.time()), "name": "account"})
    customer = sdk.v1.customers.create(params={
        "email": EMAIL, "name": reader.name, "test_clock": clock.id, "payment_method": "pm_card_visa",
        "invoice_settings": {"default_payment_method": "pm_card_visa"}, "metadata": {"reader_id": str(reader.id)}})
    reader.stripe_customer_id = customer.id
    price = _price(plan)
    stripe_price = ensure_price(price)
    assert stripe_price is not None
    db.session.commit()
    sub = sdk.v1.subscriptions.create(params={
        "customer": customer.id, "items": [{"price": stripe_price}],
        "metadata": {"reader_id": str(reader.id), "price_id": str(price.id), "plan_code": plan}})
    assert wait_until(lambda: _row(sub.id) is not None and _payments(reader.id) > 0, timeout=60)
    return reader, clock.id, sub.id


def _row(stripe_id: str) -> Subscription | None:
    db.session.rollback()  # see what the worker committed since
    return db.session.scalar(select(Subscription).where(Subscription.stripe_subscription_id == stripe_id))


def _payments(reader_id: int) -> int:
    return len(list(db.session.scalars(select(Payment.id).where(Payment.reader_id == reader_id))))


def _sign_in(site: Site, page: Any) -> None:
    page.goto("/signin")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_role("button", name="Email me a link").click()
    page.get_by_role("heading", name="Check your email").wait_for()
    page.goto(site.link_in(site.wait_for_mail(EMAIL, "sign-in link"), "/signin/"))
    page.get_by_role("button", name="Sign me in").click()
    page.wait_for_url("**/account")


def _look(page: Any, phone: Any, path: str, name: str) -> None:
    """axe + screenshots of `path` on desktop and phone, in English and Armenian."""
    phone.context.add_cookies(page.context.cookies())
    for lang in ("hy", "en"):  # English last: the language cookie is left as the test started
        for tab, size in ((page, "desktop"), (phone, "phone")):
            sep = "&" if "?" in path else "?"
            tab.goto(f"{path}{sep}lang={lang}")
            assert tab.locator("html").get_attribute("lang") == lang
            assert_accessible(tab, f"{name}-{lang}-{size}")
            shoot(tab, f"{name}-{lang}-{size}")


def test_downgrade_at_renewal_receipt_and_the_account_in_armenian(site: Site, page: Any, phone: Any) -> None:
    reader, clock, sub_id = _member_on_a_test_clock("sustainer")
    _sign_in(site, page)
    page.get_by_role("heading", name="Membership: Sustaining member").wait_for()
    _look(page, phone, "/account", "account")

    page.get_by_role("link", name="Change plan").click()
    _look(page, phone, page.url.removeprefix(site.url), "account-plan")
    page.get_by_role("radio", name="Member $10.00 per month From your next renewal").check()
    page.get_by_role("button", name="Change plan").click()
    page.wait_for_url("**/account?notice=scheduled")
    page.get_by_text("Your plan changes at your next renewal. Until then nothing changes.").wait_for()
    notice = page.get_by_text("your plan will be Member ($10.00 per month): the change applies at renewal")
    notice.wait_for()
    shoot(page, "account-downgrade-planned")
    page.goto("/account?lang=hy")
    assert page.get_by_role("heading", name="Ձեր հաշիվը").count() == 1
    page.get_by_text("փոփոխությունը կիրառվում է երկարաձգման պահին").wait_for()
    page.goto("/account?lang=en")

    row = _row(sub_id)
    assert row is not None and row.current_period_end is not None
    sdk = stripe_client()
    sdk.v1.test_helpers.test_clocks.advance(clock, params={"frozen_time": int(row.current_period_end.timestamp())
                                                          + 3600})

    def renewed_as_member() -> bool:
        current = _row(sub_id)
        return current is not None and current.price_id == _price("member").id and _payments(reader.id) >= 2

    assert wait_until(renewed_as_member, timeout=60)
    page.reload()
    page.get_by_role("heading", name="Membership: Member").wait_for()
    assert page.get_by_text("your plan will be").count() == 0
    shoot(page, "account-after-renewal")

    page.get_by_role("link", name="Receipt").first.click()
    page.get_by_role("heading", name="Receipt").wait_for()
    assert page.get_by_text("$10.00").count() >= 1  # the renewal billed the member price
    _look(page, phone, page.url.removeprefix(site.url), "receipt")
    page.goto("/account")
    page.get_by_role("link", name="Statement for").first.click()
    page.get_by_role("heading", name="Giving statement").wait_for()
    _look(page, phone, page.url.removeprefix(site.url), "statement")


def test_update_card_then_cancel_and_resume(site: Site, page: Any, phone: Any) -> None:
    _member_on_a_test_clock("member")
    _sign_in(site, page)
    page.get_by_text("Visa ending in 4242").wait_for()
    page.get_by_role("button", name="Update card").click()
    page.get_by_label("Card number").fill("5555555555554444")
    page.get_by_role("button", name="Save card").click()
    page.wait_for_url("**/account?notice=card")
    page.get_by_text("Your new card is saved.").wait_for()
    page.get_by_text("Mastercard ending in 4444").wait_for()
    assert page.get_by_text("Visa ending in 4242").count() == 0
    shoot(page, "account-new-card")

    page.get_by_role("link", name="Cancel").click()
    page.get_by_role("heading", name="Cancel your membership").wait_for()
    _look(page, phone, page.url.removeprefix(site.url), "account-cancel")
    page.get_by_label("Why are you leaving? (optional)").select_option("too_expensive")
    page.get_by_role("button", name="Cancel membership").click()
    page.get_by_role("heading", name="Cancelled").wait_for()
    page.get_by_text("You keep access until").wait_for()
    _look(page, phone, page.url.removeprefix(site.url), "account-cancelled")
    page.get_by_role("button", name="Resume").click()
    page.wait_for_url("**/account?notice=resumed")
    page.get_by_text("Welcome back: your membership renews as before.").wait_for()
    assert page.get_by_text("It will not renew").count() == 0


def test_used_link_page_offers_a_new_link(site: Site, page: Any, phone: Any) -> None:
    seed_catalogue()
    db.session.add(Reader(email=EMAIL, name="Narek Hakobyan", email_verified_at=utcnow(), language="en"))
    db.session.commit()
    _sign_in(site, page)
    link = site.link_in(site.wait_for_mail(EMAIL, "sign-in link"), "/signin/")
    page.goto(link)  # used already
    page.get_by_role("heading", name="This sign-in link no longer works").wait_for()
    _look(page, phone, link.removeprefix(site.url), "link-used")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_role("button", name="Email me a new link").click()
    page.get_by_role("heading", name="Check your email").wait_for()
