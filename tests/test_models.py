"""Invariants the schema itself enforces, so no code path can break them."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy.exc import IntegrityError, StatementError

from membership.extensions import db
from tests.factories.billing import PaymentFactory, SubscriptionFactory
from tests.factories.newsletters import NewsletterSubscriptionFactory
from tests.factories.readers import ReaderFactory


def test_reader_email_must_be_stored_lowercase(db_session: object) -> None:
    with pytest.raises(IntegrityError):
        ReaderFactory(email="Mixed@Example.org")


def test_reader_email_and_customer_are_unique(db_session: object) -> None:
    ReaderFactory(email="same@example.org", stripe_customer_id="cus_1")
    with pytest.raises(IntegrityError):
        ReaderFactory(email="same@example.org")


def test_payment_net_must_equal_gross_less_fee(db_session: object) -> None:
    PaymentFactory(gross_minor=1000, fee_minor=59, net_minor=941)
    with pytest.raises(IntegrityError):
        PaymentFactory(gross_minor=1000, fee_minor=59, net_minor=950)


def test_naive_datetimes_are_refused(db_session: object) -> None:
    with pytest.raises(StatementError, match="naive datetime"):
        SubscriptionFactory(stripe_created_at=datetime(2026, 1, 1))
    db.session.rollback()


def test_unknown_status_strings_are_refused(db_session: object) -> None:
    with pytest.raises(StatementError):
        SubscriptionFactory(status="almost_active")
    db.session.rollback()


def test_one_opt_in_per_reader_and_newsletter(db_session: object) -> None:
    first = NewsletterSubscriptionFactory()
    with pytest.raises(IntegrityError):
        NewsletterSubscriptionFactory(reader_id=first.reader_id, newsletter_id=first.newsletter_id)
