"""Every kind renders text + HTML with the layout; receipts word taxes by fiscal status."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask

from membership.billing.giving import tax_statement
from membership.billing.models import Donation, GiftMembership, TributeKind
from membership.billing.notices.policy import RENEWAL_LAW_KINDS
from membership.config import Settings
from membership.db import utcnow
from membership.enums import Stream
from membership.errors import NotFound
from membership.mail.render import SUBJECTS, UnknownKind, render_notice
from tests.factories.billing import PaymentFactory, PlanFactory
from tests.factories.readers import ReaderFactory
from tests.mail.conftest import notice, yearly_subscription


def _settings(app: Flask, **changes: Any) -> Settings:
    return replace(app.config["SETTINGS"], **changes)


def _contexts(db_session: Any) -> dict[str, dict[str, Any]]:
    sub = yearly_subscription(trial_end=utcnow() + timedelta(days=7))
    reader = ReaderFactory()
    pay = PaymentFactory(reader_id=reader.id, gross_minor=12000, fee_minor=400, benefit_value_minor=2000,
                         stream=Stream.MEMBERSHIP)
    plan = PlanFactory(name="Gift plan")
    gift = GiftMembership(purchaser_reader_id=reader.id, recipient_email="friend@example.org",
                          recipient_name="Friend", plan_id=plan.id, months=12, code_hash="h" * 64,
                          amount_minor=6000, currency="USD", message="Enjoy <b>it</b>")
    db_session.add(gift)
    donation = Donation(reader_id=reader.id, stripe_checkout_session_id="cs_tribute", amount_minor=5000,
                        currency="USD", tribute_kind=TributeKind.MEMORY, honoree_name="Komitas", message="With love")
    db_session.add(donation)
    db_session.flush()
    s = {"subscription_id": sub.id}
    return {
        "confirm_signup": {"link": "https://x.example/c?t=secret&x=1"},
        "magic_link": {"link": "https://x.example/m?t=secret"},
        "welcome": {},
        "gift_delivered": {"gift_id": gift.id, "code": "GIFT-CODE-1"},
        "tribute_notice": {"donation_id": donation.id, "name": "Lusine"},
        "payment_receipt": {"payment_id": pay.id},
        "checkout_payment_failed": {"amount_minor": 2500, "currency": "usd", "checkout_session_id": None,
                                    "donation": True},
        "payment_failed": {**s, "invoice_id": "in_1", "amount_minor": 12000, "currency": "USD",
                           "attempt_count": 2, "next_payment_attempt": int(utcnow().timestamp()) + 86400 * 3},
        "trial_ending": s, "trial_will_end": s, "renewal_notice": s, "annual_reminder": s,
        "cancellation_confirmation": s,
        "price_change": {**s, "price_id": sub.price_id, "old_amount_minor": 12000, "new_amount_minor": 15000,
                         "effective_at": int((utcnow() + timedelta(days=21)).timestamp())},
        "card_expiring": {**s, "brand": "visa", "last4": "4242", "exp_month": 12, "exp_year": 2031},
        "year_end_statement": {"reader_id": reader.id, "year": utcnow().year, "currency": "USD",
                               "total_minor": 12000, "benefit_minor": 2000, "count": 1},
    }


def test_every_kind_renders_with_layout_and_cancel_link_on_renewal_notices(app: Flask, db_session: Any) -> None:
    settings = _settings(app)
    contexts = _contexts(db_session)
    assert set(contexts) == set(SUBJECTS)
    for kind, context in contexts.items():
        out = render_notice(notice(kind, "r@example.org", context), settings)
        assert settings.outlet_name in out.text, kind
        for body in (out.text, out.html):
            assert settings.outlet_postal_address in body, kind
            assert "http://localhost/account" in body, kind
        cancel = "cancel at any time, in one click" in out.text
        assert cancel == (kind in RENEWAL_LAW_KINDS), kind
        assert "\n" not in out.subject and out.subject, kind
    gift = render_notice(notice("gift_delivered", "friend@example.org", contexts["gift_delivered"]), settings)
    assert "GIFT-CODE-1" in gift.text and "Enjoy &lt;b&gt;it&lt;/b&gt;" in gift.html  # autoescaped
    buyer = render_notice(notice("gift_delivered", "buyer@example.org", contexts["gift_delivered"]), settings)
    assert "GIFT-CODE-1" in buyer.text and "ready to pass on" in buyer.text and "for Friend" in buyer.text
    link = render_notice(notice("confirm_signup", "r@example.org", contexts["confirm_signup"]), settings)
    assert 'href="https://x.example/c?t=secret&amp;x=1"' in link.html


def test_renewal_notice_states_amount_date_and_how_to_cancel(app: Flask, db_session: Any) -> None:
    sub = yearly_subscription(days_to_renewal=30)
    out = render_notice(notice("renewal_notice", "r@example.org", {"subscription_id": sub.id}), _settings(app))
    assert "Sustainer renews automatically" in out.text and "$120.00" in out.text
    assert 'href="http://localhost/account"' in out.html and "How to cancel" in out.html
    assert "renews on" in out.subject


@pytest.mark.parametrize(
    ("fiscal", "benefit", "expected", "absent"),
    [
        ("nonprofit", 0, ["501(c)(3) nonprofit organization (EIN 00-0000000)",
                          "No goods or services were provided"], ["not tax-deductible"]),
        ("nonprofit", 2000, ["fair-market value of $20.00", "limited to $100.00 = $120.00 paid - $20.00"],
         ["No goods or services"]),
        ("fiscally_sponsored", 2000, ["fiscally sponsored project of a 501(c)(3)", "limited to $100.00"],
         ["EIN"]),
        ("for_profit", 2000, ["not tax-deductible"], ["501(c)(3)", "deductible for federal"]),
    ],
)
def test_receipt_wording_per_fiscal_status(app: Flask, db_session: Any, fiscal: str, benefit: int,
                                           expected: list[str], absent: list[str]) -> None:
    pay = PaymentFactory(gross_minor=12000, fee_minor=400, benefit_value_minor=benefit)
    out = render_notice(notice("payment_receipt", "r@example.org", {"payment_id": pay.id}),
                        _settings(app, fiscal_status=fiscal))
    for phrase in expected:
        assert phrase in out.text and phrase in out.html.replace("&#39;", "'"), phrase
    for phrase in absent:
        assert phrase not in out.text, phrase


def test_tax_statement_never_deducts_more_than_paid(app: Flask) -> None:
    statement = tax_statement(_settings(app), 1000, 5000, "USD")
    assert statement.deductible_amount == "$0.00" and statement.benefit_value == "$10.00"
    assert tax_statement(_settings(app), 500, 0, "JPY").paid == "¥500"


def test_unknown_kind_and_missing_rows_are_errors(app: Flask, db_session: Any) -> None:
    with pytest.raises(UnknownKind):
        render_notice(notice("no_such_kind", "r@example.org", {}), _settings(app))
    with pytest.raises(NotFound):
        render_notice(notice("payment_receipt", "r@example.org", {"payment_id": 999999}), _settings(app))


def test_cancellation_says_until_when_access_lasts(app: Flask, db_session: Any) -> None:
    scheduled = yearly_subscription(days_to_renewal=40, cancel_at_period_end=True)
    ended = yearly_subscription(days_to_renewal=40, ended_at=utcnow() - timedelta(days=1))
    settings = _settings(app)
    later = render_notice(notice("cancellation_confirmation", "a@example.org", {"subscription_id": scheduled.id}),
                          settings)
    now = render_notice(notice("cancellation_confirmation", "b@example.org", {"subscription_id": ended.id}),
                        settings)
    assert "You keep full access until" in later.text and "It ended on" not in later.text
    assert "It ended on" in now.text and "keep full access" not in now.text
