"""Helpers for mail tests: notices about real rows, parsed received messages."""

from __future__ import annotations

import email
import email.policy
import json
from datetime import timedelta
from email.message import EmailMessage
from typing import Any

from membership.billing.models import Subscription
from membership.db import utcnow
from membership.enums import Interval, SubscriptionStatus
from membership.mail.models import Notice
from tests.factories.billing import PlanFactory, PriceFactory, SubscriptionFactory


def parse(data: bytes) -> EmailMessage:
    msg = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def bodies(msg: EmailMessage) -> tuple[str, str]:
    text, html = msg.get_body(("plain",)), msg.get_body(("html",))
    assert text is not None and html is not None
    return (str(text.get_content()).replace("\r\n", "\n"), str(html.get_content()).replace("\r\n", "\n"))


def yearly_subscription(days_to_renewal: int = 30, **overrides: Any) -> Subscription:
    plan = PlanFactory(name="Sustainer")
    price = PriceFactory(plan_id=plan.id, interval=Interval.YEAR, amount_minor=12000)
    end = utcnow() + timedelta(days=days_to_renewal)
    values: dict[str, Any] = {
        "price_id": price.id, "interval": Interval.YEAR, "unit_amount_minor": 12000,
        "status": SubscriptionStatus.ACTIVE, "current_period_start": end - timedelta(days=365),
        "current_period_end": end, "stripe_created_at": end - timedelta(days=365),
    }
    return SubscriptionFactory(**{**values, **overrides})


def notice(kind: str, email_addr: str, context: dict[str, Any], reader_id: int | None = None,
           key: str = "k1") -> Notice:
    """An unsaved notice, as `record_notice` would store it (for rendering only)."""
    return Notice(kind=kind, dedupe_key=key, email=email_addr, context=json.dumps(context),
                  reader_id=reader_id, due_at=utcnow())
