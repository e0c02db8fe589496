"""A reader gives in memory of someone with the fees covered, pays on stripe_sim's hosted
page, and the webhook + worker leave the donation row, the receipt and the note to the
person the donor named; the page in
Armenian; axe and screenshots (desktop and phone, en and hy)."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from sqlalchemy import select

from membership.billing.fees import fee_to_cover
from membership.billing.gateway import stripe_client
from membership.billing.models import Donation, Payment, TributeKind
from membership.demo import seed_catalogue
from membership.extensions import db
from membership.identity.models import Reader
from tests.browser.harness import Site, assert_accessible, shoot

pytestmark = pytest.mark.browser


def _catalogue() -> None:
    seed_catalogue()
    db.session.commit()


def _paid_donation(email: str, timeout: float = 60) -> tuple[Donation, Payment]:
    """The donation once the webhook worker has marked it paid, with its payment."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        db.session.expire_all()
        row = db.session.execute(select(Donation, Payment).join(Reader, Reader.id == Donation.reader_id)
                                 .join(Payment, Payment.donation_id == Donation.id)
                                 .where(Reader.email == email, Donation.status == "paid")).first()
        db.session.rollback()
        if row is not None:
            return row[0], row[1]
        time.sleep(0.3)
    raise AssertionError(f"no paid donation for {email} after {timeout}s")


def _look(page: Any, phone: Any, path: str, name: str) -> None:
    """Axe and a screenshot on the desktop page, then the same page on a phone."""
    assert_accessible(page, name)
    shoot(page, name)
    phone.goto(path)
    assert_accessible(phone, f"{name}-phone")
    shoot(phone, f"{name}-phone")


def test_donate_in_memory_with_the_fees_covered(site: Site, page: Any, phone: Any) -> None:
    _catalogue()
    email = "donor@example.org"
    page.goto("/donate")
    page.get_by_role("heading", name="Support The Demo Gazette").wait_for()
    _look(page, phone, "/donate", "donate")

    fee = fee_to_cover(5000)
    page.get_by_label("Another amount").fill("40")  # the script asks /donate/fee for a typed amount
    page.get_by_text(re.compile(r"Add \$1\.51 to cover the card fee")).wait_for()
    page.get_by_label("$50.00").check()  # a preset clears the typed amount and shows its own fee
    assert page.get_by_label("Another amount").input_value() == ""
    page.get_by_label(f"Add ${fee / 100:.2f} to cover the card fee").check()
    page.get_by_label("In memory of someone").check()
    page.get_by_label("Their name").fill("Zabel Yesayan")
    page.get_by_label("A note with your gift (optional)").fill("For the reading room she loved")
    page.get_by_label("Name of the person to tell (optional)").fill("Lusine")
    page.get_by_label("Their email address (optional)").fill("lusine@example.org")
    page.get_by_label("Email", exact=True).fill(email)
    shoot(page, "donate-filled")
    page.get_by_role("button", name="Continue to payment").click()

    page.wait_for_url("**/checkout/cs_*")
    page.get_by_label("Card number").fill("4242424242424242")
    page.get_by_role("button", name="Donate").click()
    page.wait_for_url("**/donate/thanks?session_id=*")
    page.get_by_role("heading", name="Thank you for your gift").wait_for()
    assert "$51.81" in page.inner_text("main") and 5000 + fee == 5181
    _look(page, phone, page.url.removeprefix(site.url), "donate-thanks")

    session_id = page.url.split("session_id=")[1]
    with site.app.app_context():
        client = stripe_client()
        session = client.v1.checkout.sessions.retrieve(session_id)
        intent = client.v1.payment_intents.retrieve(session.payment_intent)
    assert (session.amount_total, intent.amount, intent.status) == (5181, 5181, "succeeded")

    donation, payment = _paid_donation(email)
    assert (donation.amount_minor, donation.cover_fees, donation.fee_cover_minor) == (5181, True, fee)
    assert (donation.tribute_kind, donation.honoree_name) == (TributeKind.MEMORY, "Zabel Yesayan")
    assert donation.message == "For the reading room she loved" and not donation.anonymous
    assert (payment.gross_minor, payment.currency) == (5181, "USD")
    receipt = site.wait_for_mail(email, "receipt")
    assert "$51.81" in receipt.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    told = site.wait_for_mail("lusine@example.org", "in the name of Zabel Yesayan")
    text = told.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert "Dear Lusine," in text and "in memory of Zabel Yesayan" in text and "For the reading room" in text
    assert "51.81" not in text and "50.00" not in text, "the person told never sees the amount"


def test_a_too_small_amount_is_shown_next_to_the_field(site: Site, page: Any) -> None:
    _catalogue()
    page.goto("/donate?frequency=month")
    page.get_by_label("Another amount").fill("2")
    page.get_by_label("Email", exact=True).fill("small@example.org")
    page.get_by_role("button", name="Continue to payment").click()
    page.get_by_text("The smallest gift we can take is $5.00.").wait_for()
    assert page.get_by_label("Another amount").get_attribute("aria-invalid") == "true"
    assert_accessible(page, "donate-error")
    shoot(page, "donate-error")


def test_the_donate_page_in_armenian(site: Site, page: Any, phone: Any) -> None:
    _catalogue()
    page.goto("/donate?lang=hy")
    assert page.locator("html").get_attribute("lang") == "hy"
    assert page.get_by_role("button", name="Անցնել վճարման").count() == 1
    assert "Continue to payment" not in page.inner_text("main")
    _look(page, phone, "/donate?lang=hy", "donate-hy")
    page.goto("/donate?frequency=month&currency=EUR")  # the language is remembered
    assert page.locator("html").get_attribute("lang") == "hy"
    shoot(page, "donate-hy-monthly-eur")
