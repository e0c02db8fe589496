"""MRR net of discounts end to end: coupons on stripe_sim subscriptions, renewals on a
test clock, every event through the inbox; numbers computed by hand.

$10.00/month from 2026-03-01 with 50% off for 3 months: the reader pays $5.00 on
Mar 1, Apr 1 and May 1; Stripe removes the discount at the Jun 1 renewal (its end), and
that invoice is $10.00. So MRR is $5.00 (discount MRR $5.00) until Jun 1 and $10.00
(discount $0) from then: one `new` of +500 and one `expansion` of +500 whose discount
delta is -500. Full-price MRR is $10.00 throughout.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from membership.billing import mrr
from membership.billing.models import Payment, Subscription, SubscriptionEvent
from membership.enums import Stream
from membership.extensions import db
from membership.identity.models import Reader

from .test_mrr_movements import Clocked, at
from .webhook_support import make_reader, sim_price


def _movements(reader: Reader) -> list[tuple[str, int, int, Any]]:
    rows = db.session.scalars(select(SubscriptionEvent).where(SubscriptionEvent.reader_id == reader.id)
                              .order_by(SubscriptionEvent.occurred_at, SubscriptionEvent.id))
    return [(r.kind.value, r.mrr_delta_minor, r.discount_delta_minor, r.occurred_at) for r in rows]


def _paid(reader: Reader) -> list[int]:
    return list(db.session.scalars(select(Payment.gross_minor).where(Payment.reader_id == reader.id)
                                   .order_by(Payment.paid_at)))


def test_an_intro_offer_is_net_mrr_and_its_end_is_an_expansion(client: Any, stripe_sim: Any) -> None:
    reader = make_reader()
    c = Clocked(client, reader)
    price = sim_price(1000)
    coupon = c.sdk.v1.coupons.create(params={"percent_off": 50, "duration": "repeating", "duration_in_months": 3})
    c.sdk.v1.subscriptions.create(params={"customer": c.customer.id, "items": [{"price": price.id}],
                                          "discounts": [{"coupon": coupon.id}]})
    c.sync()
    for day in (31, 61, 92):  # Apr 1, May 1, Jun 1
        c.advance(day + 0.01)
        c.sync()

    assert _movements(reader) == [("new", 500, 500, at(0)), ("expansion", 500, -500, at(92))]
    assert _paid(reader) == [500, 500, 500, 1000]
    for day, net, discount in ((0, 500, 500), (91, 500, 500), (92, 1000, 0), (100, 1000, 0)):
        assert mrr.mrr_at(at(day), Stream.MEMBERSHIP) == {"USD": net}, day
        assert mrr.discount_mrr_at(at(day), Stream.MEMBERSHIP).get("USD", 0) == discount, day
    sub = db.session.scalars(select(Subscription).where(Subscription.reader_id == reader.id)).one()
    assert (sub.mrr_minor, sub.discount_minor) == (1000, 0)


def test_a_once_coupon_discounts_one_invoice_but_not_mrr(client: Any, stripe_sim: Any) -> None:
    reader = make_reader()
    c = Clocked(client, reader)
    price = sim_price(1000)
    coupon = c.sdk.v1.coupons.create(params={"amount_off": 700, "currency": "usd", "duration": "once"})
    c.sdk.v1.subscriptions.create(params={"customer": c.customer.id, "items": [{"price": price.id}],
                                          "discounts": [{"coupon": coupon.id}]})
    c.sync()
    c.advance(31.01)
    c.sync()

    assert _paid(reader) == [300, 1000]
    assert [(kind, delta, discount) for kind, delta, discount, _at in _movements(reader)] == [("new", 1000, 0)]


def test_a_forever_amount_off_on_a_yearly_plan_is_a_twelfth_a_month(client: Any, stripe_sim: Any) -> None:
    reader = make_reader()
    c = Clocked(client, reader)
    price = sim_price(12000, interval="year")
    coupon = c.sdk.v1.coupons.create(params={"amount_off": 2400, "currency": "usd", "duration": "forever"})
    c.sdk.v1.subscriptions.create(params={"customer": c.customer.id, "items": [{"price": price.id}],
                                          "discounts": [{"coupon": coupon.id}]})
    c.sync()

    assert _paid(reader) == [9600]
    assert [(kind, delta, discount) for kind, delta, discount, _at in _movements(reader)] == [("new", 800, 200)]


def test_stacked_discounts_match_the_invoice_and_removing_them_is_an_expansion(client: Any, stripe_sim: Any) -> None:
    reader = make_reader()
    c = Clocked(client, reader)
    price = sim_price(1000)
    first = c.sdk.v1.coupons.create(params={"percent_off": 80, "duration": "forever"})
    second = c.sdk.v1.coupons.create(params={"percent_off": 50, "duration": "forever"})
    sub = c.sdk.v1.subscriptions.create(params={"customer": c.customer.id, "items": [{"price": price.id}],
                                                "discounts": [{"coupon": first.id}, {"coupon": second.id}]})
    c.sync()
    c.advance(10)
    c.sdk.v1.subscriptions.update(sub.id, params={"discounts": ""})
    c.sync()

    assert _paid(reader) == [100]  # 1000 -> 200 -> 100
    assert _movements(reader) == [("new", 100, 900, at(0)), ("expansion", 900, -900, at(10))]
