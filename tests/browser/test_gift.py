"""A reader buys a gift membership delivered today, pays on stripe_sim's hosted page; the
webhook worker mints the code and, the notice being due, sends it to the recipient (the
production path: a notice row due now is sent by the worker; a later day's row is sent
by the beat's sweeper); the recipient redeems it from the mail's link in another
browser and sees the membership; the buyer's receipt arrives. Axe and screenshots."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from membership.billing.gateway import stripe_client
from membership.billing.models import GiftMembership
from membership.demo import seed_catalogue
from membership.extensions import db
from tests.browser.harness import Site, assert_accessible, shoot

pytestmark = pytest.mark.browser


def _look(page: Any, phone: Any, path: str, name: str) -> None:
    assert_accessible(page, name)
    shoot(page, name)
    phone.goto(path)
    assert_accessible(phone, f"{name}-phone")
    shoot(phone, f"{name}-phone")


def test_buy_a_gift_and_redeem_it_as_the_recipient(site: Site, page: Any, phone: Any, browser: Any) -> None:
    seed_catalogue()
    db.session.commit()
    buyer, recipient = "aram@example.org", "anahit@example.org"

    page.goto("/gift")
    page.get_by_role("heading", name="Give a membership").wait_for()
    _look(page, phone, "/gift", "gift")
    page.get_by_label("Sustaining member").check()
    page.get_by_label("Recipient's name").fill("Anahit")
    page.get_by_label("Recipient's email").fill(recipient)
    assert page.get_by_label("Delivery date").input_value()  # today, already filled in
    page.get_by_label("Your message (optional)").fill("Happy birthday! Read well.")
    page.get_by_label("Email", exact=True).fill(buyer)
    page.get_by_label("Your name, as the recipient will see it (optional)").fill("Aram")
    shoot(page, "gift-filled")
    page.get_by_role("button", name="Continue to payment").click()

    page.wait_for_url("**/checkout/cs_*")
    page.get_by_label("Card number").fill("4242424242424242")
    page.get_by_role("button", name="Pay").click()
    page.wait_for_url("**/gift/thanks?session_id=*")
    page.get_by_role("heading", name="Thank you for your gift").wait_for()
    assert "in a few minutes" in page.inner_text("main")
    _look(page, phone, page.url.removeprefix(site.url), "gift-thanks")
    with site.app.app_context():
        session = stripe_client().v1.checkout.sessions.retrieve(page.url.split("session_id=")[1])
    assert (session.amount_total, session.payment_status) == (25000, "paid")

    receipt = site.wait_for_mail(buyer, "receipt")
    assert "$250.00" in receipt.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    gift_mail = site.wait_for_mail(recipient, "You have been given a membership")
    text = gift_mail.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert "Aram has given you 12 months of Sustaining member" in text and "Happy birthday! Read well." in text
    assert not site.mails_to(buyer) or all("GIFT-" not in str(m) for m in site.mails_to(buyer)), \
        "the code goes to the recipient only"
    link = site.link_in(gift_mail, "/redeem?code=")

    context = browser.new_context(base_url=site.url, locale="en-US", viewport={"width": 1100, "height": 900})
    context.set_default_timeout(20_000)
    try:
        theirs = context.new_page()
        theirs.goto(link)
        theirs.get_by_role("heading", name="Redeem a gift").wait_for()
        assert theirs.get_by_label("Gift code").input_value().startswith("GIFT-")
        _look(theirs, phone, link.removeprefix(site.url), "redeem")  # looking does not use the code up
        theirs.get_by_role("button", name="Redeem gift").click()
        theirs.wait_for_url("**/account?notice=gift")
        theirs.get_by_text("Gift redeemed: enjoy your membership!").wait_for()
        theirs.get_by_text("You are a member until").wait_for()
        shoot(theirs, "redeem-account")

        theirs.goto(link)  # the link again: the code is used now
        theirs.get_by_role("button", name="Redeem gift").click()
        theirs.get_by_text("This code is unknown or has already been used.").wait_for()
    finally:
        context.close()
    db.session.expire_all()
    gift = db.session.scalars(select(GiftMembership).where(GiftMembership.recipient_email == recipient)).one()
    assert gift.status == "redeemed" and gift.redeemed_by_reader_id is not None


def test_the_gift_and_redeem_pages_in_armenian(site: Site, page: Any, phone: Any) -> None:
    seed_catalogue()
    db.session.commit()
    page.goto("/gift?lang=hy")
    assert page.locator("html").get_attribute("lang") == "hy"
    assert "Recipient" not in page.inner_text("main")
    _look(page, phone, "/gift?lang=hy", "gift-hy")
    page.goto("/redeem?code=GIFT-AAAA-BBBB-CCCC-DDDD")
    assert page.locator("html").get_attribute("lang") == "hy"
    _look(page, phone, "/redeem?code=GIFT-AAAA-BBBB-CCCC-DDDD&lang=hy", "redeem-hy")
