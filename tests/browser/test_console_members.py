"""Members and Operations in a real browser: a reader gives through stripe_sim's hosted
Checkout; a support user finds them, refunds part of the payment, and the member's page
and the ledger show the refund once the webhook has gone through the worker. An admin's
Operations pages. axe on every page; screenshots under var/screenshots/console-*.png."""

from __future__ import annotations

import time
from typing import Any

import pytest
from sqlalchemy import select

from membership.billing.models import Payment, Refund
from membership.demo import seed_catalogue
from membership.enums import StaffRole
from membership.extensions import db
from membership.identity.models import Reader
from membership.ledger.models import JournalTransaction, LedgerEntry
from tests.browser.harness import Site, assert_accessible, shoot
from tests.console.helpers import sign_in_browser, staff_user

pytestmark = pytest.mark.browser
DONOR = "giving.reader@example.org"


def _look(page: Any, name: str) -> None:
    assert_accessible(page, name)
    shoot(page, name)


def _eventually(find: Any, what: str, timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        db.session.expire_all()
        found = find()
        db.session.rollback()
        if found:
            return found
        time.sleep(0.3)
    raise AssertionError(f"no {what} after {timeout}s")


def _reader_gives(page: Any) -> Payment:
    """A real payment: the donate page, then stripe_sim's hosted Checkout."""
    page.goto("/donate")
    page.get_by_label("$50.00").check()
    page.get_by_label("Email", exact=True).fill(DONOR)
    page.get_by_role("button", name="Continue to payment").click()
    page.wait_for_url("**/checkout/cs_*")
    page.get_by_label("Card number").fill("4242424242424242")
    page.get_by_role("button", name="Donate").click()
    page.wait_for_url("**/donate/thanks?session_id=*")
    return _eventually(lambda: db.session.scalar(select(Payment).join(Reader, Reader.id == Payment.reader_id)
                                                 .where(Reader.email == DONOR)), "payment")  # type: ignore[no-any-return]


def test_support_finds_a_reader_and_refunds_part_of_a_payment(site: Site, page: Any, browser: Any) -> None:
    seed_catalogue()
    db.session.commit()
    payment = _reader_gives(page)
    assert (payment.gross_minor, payment.currency) == (5000, "USD")

    support = browser.new_context(base_url=site.url, viewport={"width": 1280, "height": 900})
    support.set_default_timeout(20_000)
    sign_in_browser(support, site, staff_user(StaffRole.SUPPORT, "help.desk@staff.example"))
    console = support.new_page()
    console.goto("/staff")
    console.wait_for_url("**/staff/members")
    console.get_by_label("Find a reader by email, name or Stripe id").fill("giving.reader@")
    console.get_by_role("button", name="Search").click()
    console.get_by_role("heading", name="1 reader found (email search)").wait_for()
    _look(console, "console-members")
    console.get_by_role("link", name=DONOR).click()
    console.get_by_role("heading", name="Payments and receipts").wait_for()
    _look(console, "console-member")

    console.get_by_label("Amount to refund (USD)").fill("20.00")
    console.get_by_label("Refund reason").select_option("requested_by_customer")
    console.get_by_role("button", name="Refund").click()
    console.get_by_text("Refund of $20.00 sent to Stripe").wait_for()

    refund = _eventually(lambda: db.session.scalar(select(Refund).where(Refund.payment_id == payment.id,
                                                                         Refund.status == "succeeded")), "refund")
    assert refund.amount_minor == 2000
    journal = _eventually(lambda: db.session.scalar(select(JournalTransaction).where(
        JournalTransaction.kind == "refund")), "refund journal")
    lines = db.session.scalars(select(LedgerEntry).where(LedgerEntry.transaction_id == journal.id)).all()
    assert sum(e.amount_minor for e in lines) == 0 and max(abs(e.amount_minor) for e in lines) == 2000
    console.reload()
    row = console.locator(f"#payment-{payment.id}")
    row.get_by_text("$20.00 succeeded").wait_for()
    assert "$30.00" in row.inner_text()  # what is left to refund
    _look(console, "console-member-refunded")
    support.close()


def test_admin_operations_pages(site: Site, page: Any) -> None:
    admin = staff_user(StaffRole.ADMIN, "chief@staff.example")
    staff_user(StaffRole.EDITOR, "editor@staff.example")
    sign_in_browser(page, site, admin)
    page.goto("/staff/operations")
    page.get_by_role("heading", name="Stripe webhook inbox").wait_for()
    _look(page, "console-operations-inbox")
    page.get_by_role("link", name="Notices").click()
    page.get_by_role("heading", name="Failed notices").wait_for()
    _look(page, "console-operations-notices")
    page.get_by_role("link", name="Staff sessions").click()
    page.get_by_role("heading", name="Live console sessions").wait_for()
    _look(page, "console-operations-sessions")
    page.get_by_role("link", name="Audit log").click()
    page.get_by_role("heading", name="Audit log").wait_for()
    assert "staff.create" in page.inner_text("main")
    _look(page, "console-operations-audit")
