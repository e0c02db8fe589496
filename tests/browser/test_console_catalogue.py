"""Catalogue in a real browser: an admin passes the second factor, syncs the catalogue
with stripe_sim, creates a promotion code, and runs a price change through preview and
confirm, then sees the Price changes section after a sweep; a finance user gets the 403
page. axe on every page; screenshots console-catalogue, console-price-change-preview,
console-price-change-done, console-price-changes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from membership.billing import price_change_apply, price_changes
from membership.billing.catalog import sync_catalog
from membership.billing.gateway import stripe_client
from membership.billing.gateway.subscriptions import Move
from membership.billing.models import Plan, Price
from membership.db import utcnow
from membership.demo import seed_catalogue
from membership.enums import StaffRole
from membership.extensions import db
from membership.mail.models import Notice, NoticeStatus
from tests.browser.harness import Site, assert_accessible, shoot
from tests.console.helpers import sign_in_browser, sign_in_browser_past_second_factor, staff_user
from tests.factories.billing import SubscriptionFactory
from tests.factories.readers import ReaderFactory
from tests.support.promotions import intro_offers_retired_after

pytestmark = pytest.mark.browser



@pytest.fixture(autouse=True)
def _intro_offers_switched_off_after(site: Site) -> Iterator[None]:
    """The simulator outlives this test: its intro codes would show on later tests' /join."""
    with intro_offers_retired_after(site.app):
        yield


def _look(page: Any, name: str) -> None:
    assert_accessible(page, name)
    shoot(page, name)


def _admin_signed_in(site: Site, page: Any) -> None:
    """The admin types their authenticator's code on the real second-factor page before the catalogue opens."""
    sign_in_browser_past_second_factor(page, site, staff_user(StaffRole.ADMIN, "catalogue.admin@staff.example"),
                                       "/staff/catalogue")


def test_admin_creates_a_code_and_changes_a_price_through_the_notice_flow(site: Site, page: Any) -> None:
    seed_catalogue()
    db.session.commit()
    price = db.session.scalars(select(Price).join(Plan).where(
        Plan.code == "member", Price.currency == "USD", Price.interval == "month")).one()
    for n, email in enumerate(("ani@readers.example", "tigran@readers.example", "mariam@readers.example")):
        SubscriptionFactory(price_id=price.id, reader_id=ReaderFactory(email=email).id,
                            current_period_end=utcnow() + timedelta(days=5 + 9 * n))
    db.session.commit()
    _admin_signed_in(site, page)

    page.get_by_role("button", name="Sync with Stripe").click()
    page.get_by_text("Catalogue synced with Stripe: 4 product(s)").wait_for()
    code = f"WELCOME-{utcnow():%H%M%S}"
    page.get_by_label("Code readers type").fill(code)
    page.get_by_label("Percentage off").fill("30")
    page.get_by_label("How long it lasts").select_option("once")
    page.get_by_label("Intro offer for").select_option("member")
    page.get_by_role("button", name="Create promotion code").click()
    page.get_by_text(f"Promotion code {code} created at Stripe").wait_for()
    [promo] = stripe_client().v1.promotion_codes.list(params={"code": code}).data
    assert promo.active and promo.metadata["intro"] == "member"
    assert "30% off" in page.locator(f"#code-{promo.id}").inner_text()
    _look(page, "console-catalogue")

    page.locator(f"#price-{price.id}").get_by_role("link", name="Change price").click()
    page.get_by_role("heading", name="Change $10.00 per month, Member").wait_for()
    zone = ZoneInfo(site.app.config["SETTINGS"].outlet_timezone)
    day = (datetime.now(zone) + timedelta(days=45)).date()
    page.get_by_label("New amount (USD)").fill("12.50")
    page.get_by_label("New price applies from").fill(day.isoformat())
    page.get_by_role("button", name="Preview who is told").click()
    page.get_by_role("heading", name="Who gets which notice, when").wait_for()
    table = page.locator("table", has_text="ani@readers.example")
    assert table.locator("tbody tr").count() == 3
    due = datetime.combine(day, datetime.min.time(), zone) - timedelta(days=21)
    assert f"{due.astimezone(ZoneInfo('UTC')):%d %b %Y}" in table.inner_text()
    _look(page, "console-price-change-preview")

    page.get_by_role("button", name="Confirm the price change").click()
    page.get_by_role("heading", name="Price change scheduled").wait_for()
    assert "3 notice(s) scheduled" in page.inner_text("main")
    assert page.locator("table tbody tr").count() == 3
    _look(page, "console-price-change-done")
    db.session.expire_all()
    notices = db.session.scalars(select(Notice).where(Notice.kind == "price_change")).all()
    assert sorted(n.email for n in notices) == ["ani@readers.example", "mariam@readers.example",
                                                "tigran@readers.example"]


def test_the_price_changes_section_after_the_days_sweep(site: Site, page: Any,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """One change applied with a reader held (failed notice), one still announced."""
    seed_catalogue()
    sync_catalog()
    db.session.commit()
    zone = ZoneInfo(site.app.config["SETTINGS"].outlet_timezone)
    effective = datetime.combine((datetime.now(zone) + timedelta(days=20)).date(), datetime.min.time(), zone)
    member, sustainer = (db.session.scalars(select(Price).join(Plan).where(
        Plan.code == code, Price.currency == cur, Price.interval == interval, Price.active)).one()
        for code, cur, interval in (("member", "USD", "month"), ("sustainer", "EUR", "year")))
    subs = [SubscriptionFactory(price_id=member.id, reader_id=ReaderFactory(email=f"{name}@readers.example").id)
            for name in ("nare", "davit", "lusine")]
    SubscriptionFactory(price_id=sustainer.id, reader_id=ReaderFactory(email="aram@readers.example").id)
    new = price_changes.announce(member.id, 1250, effective).new_price
    price_changes.announce(sustainer.id, 24000, effective + timedelta(days=30))
    for notice in db.session.scalars(select(Notice).where(Notice.dedupe_key.like("%:1250"))):
        failed = notice.email.startswith("lusine")
        notice.status = NoticeStatus.FAILED if failed else NoticeStatus.SENT
        notice.sent_at, notice.last_error = (None, "550 5.1.1 no such user") if failed else (utcnow(), None)
    db.session.commit()
    monkeypatch.setattr(price_change_apply, "move_to_price", lambda *a, **k: Move.MOVED)
    price_change_apply.apply_due(effective + timedelta(hours=1))
    for sub in subs[:2]:  # what the webhook writes once Stripe moved them
        sub.price_id = new.id
    db.session.commit()

    sign_in_browser(page, site, staff_user(StaffRole.ADMIN, "changes.admin@staff.example"))
    page.goto("/staff/catalogue#price-changes")
    section = page.locator("#price-changes")
    assert "partly held" in section.inner_text() and "announced" in section.inner_text()
    section.get_by_text("Held on $10.00: 1 reader").click()
    link = section.get_by_role("link", name="lusine@readers.example")
    assert link.get_attribute("href") == f"/staff/members/{subs[2].reader_id}"
    section.scroll_into_view_if_needed()
    _look(page, "console-price-changes")


def test_finance_gets_the_403_page_on_the_catalogue(site: Site, page: Any) -> None:
    sign_in_browser(page, site, staff_user(StaffRole.FINANCE, "finance.cat@staff.example"))
    response = page.goto("/staff/catalogue")
    assert response is not None and response.status == 403
    page.get_by_role("heading", name="Forbidden").wait_for()
    assert "catalogue:read" in page.inner_text("main")
    assert page.get_by_role("navigation", name="Console").get_by_role("link", name="Catalogue").count() == 0
    _look(page, "console-catalogue-403")
