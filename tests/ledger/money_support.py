"""Helpers for the money tests: sim prices with local catalogue rows, feeding sim events
through the real webhook pipeline (signed POST -> inbox -> processing -> dispatch), and
reading the journal back."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select

from membership.billing import processing
from membership.billing.gateway import stripe_client
from membership.billing.models import PlanKind
from membership.billing.models.webhooks import WebhookEvent
from membership.enums import Interval, Stream
from membership.extensions import db
from membership.ledger.models import Account, JournalTransaction, LedgerEntry
from tests.billing.webhook_support import deliver
from tests.factories.billing import PlanFactory, PriceFactory

KINDS = {Stream.MEMBERSHIP: PlanKind.MEMBERSHIP, Stream.RECURRING_DONATION: PlanKind.RECURRING_DONATION,
         Stream.ONE_TIME_DONATION: PlanKind.ONE_TIME_DONATION}


def catalogue_price(amount: int | None = 1000, interval: str = "month", stream: Stream = Stream.MEMBERSHIP,
                    benefit: int = 0, currency: str = "usd") -> Any:
    """A price in the sim plus the local Plan/Price rows pointing at it."""
    client = stripe_client()
    product = client.v1.products.create(params={"name": f"{stream.value} {amount}/{interval}"})
    params: dict[str, Any] = {"product": product.id, "currency": currency}
    if amount is None:
        params["custom_unit_amount"] = {"enabled": True, "minimum": 100}
    else:
        params["unit_amount"] = amount
    if interval != "one_time":
        params["recurring"] = {"interval": interval}
    price = client.v1.prices.create(params=params)
    plan = PlanFactory(stream=stream, kind=KINDS[stream], stripe_product_id=product.id)
    PriceFactory(plan_id=plan.id, amount_minor=amount, currency=currency.upper(), interval=Interval(interval),
                 stripe_price_id=price.id, benefit_value_minor=benefit)
    db.session.commit()
    return price


def events_since(marker: str | None, related: set[str] | None = None) -> list[dict[str, Any]]:
    """The sim's events after `marker`, oldest first; with `related`, only those whose object
    is, or names as customer/charge/payment intent, one of those ids (the sim is shared)."""
    out: list[dict[str, Any]] = []
    for evt in stripe_client().v1.events.list(params={"limit": 100}).auto_paging_iter():
        if evt.id == marker:
            break
        payload = evt.to_dict(for_json=True)  # Decimal fields (unit_amount_decimal) as strings
        obj = payload["data"]["object"]
        refs = {obj.get(k) for k in ("id", "customer", "charge", "payment_intent")}
        if related is None or refs & related:
            out.append(payload)
    out.reverse()
    return out


def feed(client: FlaskClient, marker: str | None, related: set[str] | None = None,
         skip: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """Deliver and process the sim's events since `marker`; every one must be processed."""
    events = [e for e in events_since(marker, related) if not e["type"].startswith(skip)]
    for payload in events:
        row_id = deliver(client, payload)
        outcome, _delay = processing.process(row_id)
        row = db.session.get(WebhookEvent, row_id)
        assert outcome is processing.Outcome.PROCESSED, (payload["type"], row.last_error if row else None)
    return events


def balances(stream: Stream | None = None, currency: str = "USD") -> dict[Account, int]:
    """Account -> signed balance (debit positive) over the whole journal."""
    query = select(LedgerEntry.account, LedgerEntry.amount_minor).where(LedgerEntry.currency == currency)
    if stream is not None:
        query = query.where(LedgerEntry.stream == stream)
    out: dict[Account, int] = defaultdict(int)
    for account, amount in db.session.execute(query):
        out[account] += amount
    return dict(out)


def journal(kind: str | None = None) -> list[JournalTransaction]:
    query = select(JournalTransaction).order_by(JournalTransaction.id)
    if kind:
        query = query.where(JournalTransaction.kind == kind)
    return list(db.session.scalars(query))


def lines_of(txn: JournalTransaction) -> dict[tuple[str, str], int]:
    rows = db.session.scalars(select(LedgerEntry).where(LedgerEntry.transaction_id == txn.id)).all()
    return {(r.account.value, r.currency): r.amount_minor for r in rows}


def every_group_balances() -> bool:
    sums: dict[tuple[int, str], int] = defaultdict(int)
    for txn_id, currency, amount in db.session.execute(
            select(LedgerEntry.transaction_id, LedgerEntry.currency, LedgerEntry.amount_minor)):
        sums[(txn_id, currency)] += amount
    return all(v == 0 for v in sums.values())
