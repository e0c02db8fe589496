"""Coupons and subscription discounts, through stripe-python over HTTP, on a test clock."""

from __future__ import annotations

from typing import Any

import pytest
import requests
import stripe

from .conftest import DAY, add_months, event_types, latest_event_id, monthly_price

T0 = 1767225600  # 2026-01-01T00:00:00Z


def _sub(client: stripe.StripeClient, coupon_id: str | None, amount: int = 1000, currency: str = "usd",
         **extra: Any) -> tuple[Any, Any, Any]:
    clock = client.v1.test_helpers.test_clocks.create(params={"frozen_time": T0})
    cus = client.v1.customers.create(params={"email": "d@example.com", "test_clock": clock.id})
    price = monthly_price(client, amount, currency)
    params: dict[str, Any] = {"customer": cus.id, "items": [{"price": price.id}],
                              "default_payment_method": "pm_card_visa", **extra}
    if coupon_id:
        params["discounts"] = [{"coupon": coupon_id}]
    return clock, cus, client.v1.subscriptions.create(params=params)


def _advance(client: stripe.StripeClient, clock: Any, to: int) -> None:
    client.v1.test_helpers.test_clocks.advance(clock.id, params={"frozen_time": to})


def _invoices(client: stripe.StripeClient, sub: Any) -> list[Any]:
    """Oldest first."""
    return list(reversed(client.v1.invoices.list(params={"subscription": sub.id, "limit": 100}).data))


def _charge_of(client: stripe.StripeClient, inv: Any) -> Any:
    ip = client.v1.invoice_payments.list(params={"invoice": inv.id}).data[0]
    pi = client.v1.payment_intents.retrieve(ip.payment.payment_intent,
                                            params={"expand": ["latest_charge.balance_transaction"]})
    return pi.latest_charge


def _bad(client: stripe.StripeClient, params: dict[str, Any]) -> stripe.InvalidRequestError:
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.coupons.create(params=params)
    assert exc.value.http_status == 400
    return exc.value


def test_coupon_crud(client: stripe.StripeClient) -> None:
    made = client.v1.coupons.create(params={"id": "SPRING", "percent_off": 12.5, "duration": "repeating",
                                            "duration_in_months": 2, "name": "Spring", "metadata": {"k": "v"}})
    assert (made.id, made.percent_off, made.amount_off, made.currency) == ("SPRING", 12.5, None, None)
    assert (made.duration_in_months, made.times_redeemed, made.valid, made.metadata.k) == (2, 0, True, "v")
    auto = client.v1.coupons.create(params={"amount_off": 300, "currency": "USD"})
    assert len(auto.id) == 8 and auto.duration == "once" and auto.currency == "usd"
    assert client.v1.coupons.retrieve("SPRING").name == "Spring"
    assert [c.id for c in client.v1.coupons.list().data] == [auto.id, "SPRING"]
    assert client.v1.coupons.update("SPRING", params={"name": "Spring sale"}).name == "Spring sale"
    gone = client.v1.coupons.delete("SPRING")
    assert gone.deleted is True and gone.id == "SPRING"
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.coupons.retrieve("SPRING")
    assert exc.value.http_status == 404
    assert [c.id for c in client.v1.coupons.list().data] == [auto.id]
    assert event_types(client) == ["coupon.created", "coupon.created", "coupon.updated", "coupon.deleted"]


@pytest.mark.parametrize(("params", "param"), [
    ({"duration": "forever"}, "percent_off"),
    ({"percent_off": 10, "amount_off": 100, "currency": "usd"}, "amount_off"),
    ({"percent_off": 0}, "percent_off"),
    ({"percent_off": 100.5}, "percent_off"),
    ({"percent_off": "ten"}, "percent_off"),
    ({"amount_off": 100}, "currency"),
    ({"amount_off": 0, "currency": "usd"}, "amount_off"),
    ({"percent_off": 10, "duration": "repeating"}, "duration_in_months"),
    ({"percent_off": 10, "duration": "forever", "duration_in_months": 3}, "duration_in_months"),
    ({"percent_off": 10, "duration": "weekly"}, "duration"),
    ({"percent_off": 10, "max_redemptions": 0}, "max_redemptions"),
    ({"percent_off": 10, "redeem_by": 1000}, "redeem_by"),
])
def test_coupon_validation(client: stripe.StripeClient, params: dict[str, Any], param: str) -> None:
    assert _bad(client, params).param == param
    assert client.v1.coupons.list().data == []  # nothing half-made


def test_duplicate_coupon_id(client: stripe.StripeClient) -> None:
    client.v1.coupons.create(params={"id": "TWICE", "percent_off": 10})
    assert _bad(client, {"id": "TWICE", "percent_off": 20}).code == "resource_already_exists"


def test_repeating_half_off_for_three_months(client: stripe.StripeClient) -> None:
    client.v1.coupons.create(params={"id": "HALF3", "percent_off": 50, "duration": "repeating",
                                     "duration_in_months": 3})
    clock, cus, sub = _sub(client, "HALF3")
    assert len(sub.discounts) == 1 and sub.discounts[0].startswith("di_")
    did = sub.discounts[0]
    disc = client.v1.subscriptions.retrieve(sub.id, params={"expand": ["discounts"]}).discounts[0]
    assert (disc.start, disc.end, disc.subscription, disc.customer) == (T0, add_months(T0, 3), sub.id, cus.id)
    assert disc.source.type == "coupon" and disc.source.coupon == "HALF3"
    assert client.v1.coupons.retrieve("HALF3").times_redeemed == 1
    for n in (1, 2):
        _advance(client, clock, add_months(T0, n) + 60)
    invs = _invoices(client, sub)
    assert len(invs) == 3
    for inv in invs:
        assert (inv.subtotal, inv.total, inv.amount_due, inv.amount_paid, inv.status) == (1000, 500, 500, 500, "paid")
        assert inv.discounts == [did]
        assert [(d.amount, d.discount) for d in inv.total_discount_amounts] == [(500, did)]
        line = inv.lines.data[0]
        assert line.amount == 1000 and [(d.amount, d.discount) for d in line.discount_amounts] == [(500, did)]
        charge = _charge_of(client, inv)
        assert (charge.amount, charge.balance_transaction.amount) == (500, 500)
    mark = latest_event_id(client)
    _advance(client, clock, add_months(T0, 3) + 60)
    fourth = _invoices(client, sub)[-1]
    assert (fourth.subtotal, fourth.total, fourth.amount_paid, fourth.discounts) == (1000, 1000, 1000, [])
    assert _charge_of(client, fourth).amount == 1000
    assert client.v1.subscriptions.retrieve(sub.id).discounts == []
    types = event_types(client, mark)
    assert types.index("customer.discount.deleted") < types.index("invoice.created")
    deleted = client.v1.events.list(params={"type": "customer.discount.deleted"}).data[0].data.object
    assert deleted.object == "discount" and deleted.id == did and deleted.source.coupon == "HALF3"
    updates = client.v1.events.list(params={"type": "customer.subscription.updated", "limit": 100}).data
    dropped = [e for e in updates if "discounts" in e.data.to_dict().get("previous_attributes", {})]
    assert len(dropped) == 1 and dropped[0].data.previous_attributes.discounts == [did]
    assert dropped[0].data.object.discounts == [] and dropped[0].created == add_months(T0, 3)


def test_once_applies_to_one_invoice(client: stripe.StripeClient) -> None:
    client.v1.coupons.create(params={"id": "FIRST", "percent_off": 25, "duration": "once"})
    clock, _cus, sub = _sub(client, "FIRST")
    disc = client.v1.subscriptions.retrieve(sub.id, params={"expand": ["discounts"]}).discounts[0]
    assert disc.end is None
    preview = client.v1.invoices.create_preview(params={"subscription": sub.id})
    assert preview.total == 1000  # already used on the first invoice
    _advance(client, clock, add_months(T0, 1) + 60)
    assert [(i.subtotal, i.total) for i in _invoices(client, sub)] == [(1000, 750), (1000, 1000)]
    assert client.v1.subscriptions.retrieve(sub.id).discounts == []
    assert client.v1.events.list(params={"type": "customer.discount.deleted"}).data[0].data.object.id == disc.id


def test_amount_off_capped_at_the_line_and_currency_checked(client: stripe.StripeClient) -> None:
    client.v1.coupons.create(params={"id": "BIG", "amount_off": 1500, "currency": "usd", "duration": "forever"})
    client.v1.coupons.create(params={"id": "SMALL", "amount_off": 300, "currency": "usd", "duration": "forever"})
    client.v1.coupons.create(params={"id": "EURO", "amount_off": 300, "currency": "eur", "duration": "forever"})
    _c, _cus, big = _sub(client, "BIG")
    inv = client.v1.invoices.retrieve(big.latest_invoice)
    assert (inv.subtotal, inv.total, inv.amount_due, inv.status) == (1000, 0, 0, "paid")
    assert inv.total_discount_amounts[0].amount == 1000 and inv.lines.data[0].discount_amounts[0].amount == 1000
    _c, _cus, small = _sub(client, "SMALL")
    assert client.v1.invoices.retrieve(small.latest_invoice).total == 700
    with pytest.raises(stripe.InvalidRequestError) as exc:
        _sub(client, "EURO")
    assert exc.value.http_status == 400 and exc.value.param == "discounts[0][coupon]"
    with pytest.raises(stripe.InvalidRequestError) as exc:
        _sub(client, "NOPE")
    assert exc.value.http_status == 404
    with pytest.raises(stripe.InvalidRequestError) as exc:
        _sub(client, None, coupon="SMALL")  # the pre-basil top-level param is refused, not ignored
    assert exc.value.param == "coupon"
    assert client.v1.coupons.retrieve("EURO").times_redeemed == 0


def test_full_discount_invoices_are_paid_without_a_charge(client: stripe.StripeClient) -> None:
    client.v1.coupons.create(params={"id": "FREE", "percent_off": 100, "duration": "forever"})
    clock, cus, sub = _sub(client, "FREE")
    assert sub.status == "active"
    _advance(client, clock, add_months(T0, 1) + 60)
    invs = _invoices(client, sub)
    assert [(i.subtotal, i.total, i.amount_paid, i.status) for i in invs] == [(1000, 0, 0, "paid")] * 2
    for inv in invs:
        assert client.v1.invoice_payments.list(params={"invoice": inv.id}).data == []
    assert client.v1.charges.list(params={"customer": cus.id}).data == []


def test_redemption_limits_and_deleted_coupon(client: stripe.StripeClient) -> None:
    client.v1.coupons.create(params={"id": "ONEUSE", "percent_off": 10, "duration": "forever",
                                     "max_redemptions": 1})
    clock, _cus, sub = _sub(client, "ONEUSE")
    spent = client.v1.coupons.retrieve("ONEUSE")
    assert (spent.times_redeemed, spent.valid) == (1, False)
    with pytest.raises(stripe.InvalidRequestError) as exc:
        _sub(client, "ONEUSE")
    assert exc.value.http_status == 400
    client.v1.coupons.delete("ONEUSE")
    _advance(client, clock, add_months(T0, 1) + 60)
    assert _invoices(client, sub)[-1].total == 900  # the discount outlives its coupon, as in Stripe
    got = client.v1.subscriptions.retrieve(sub.id, params={"expand": ["discounts.source.coupon"]})
    assert got.discounts[0].source.coupon.id == "ONEUSE" and got.discounts[0].source.coupon.valid is False


def test_expand_discounts(client: stripe.StripeClient) -> None:
    client.v1.coupons.create(params={"id": "TEN", "percent_off": 10, "duration": "forever"})
    _c, _cus, sub = _sub(client, "TEN")
    plain = client.v1.subscriptions.retrieve(sub.id)
    assert isinstance(plain.discounts[0], str)
    one = client.v1.subscriptions.retrieve(sub.id, params={"expand": ["discounts"]}).discounts[0]
    assert one.object == "discount" and one.source.coupon == "TEN"
    two = client.v1.subscriptions.retrieve(sub.id, params={"expand": ["discounts.source.coupon"]}).discounts[0]
    assert two.source.coupon.object == "coupon" and two.source.coupon.percent_off == 10
    assert isinstance(client.v1.subscriptions.retrieve(sub.id).discounts[0], str)  # expansion left no trace
    inv = client.v1.invoices.retrieve(sub.latest_invoice, params={"expand": ["discounts",
                                                                             "total_discount_amounts.discount"]})
    assert inv.discounts[0].id == one.id and inv.total_discount_amounts[0].discount.id == one.id


def test_update_adds_keeps_and_removes(client: stripe.StripeClient) -> None:
    client.v1.coupons.create(params={"id": "A", "percent_off": 10, "duration": "forever"})
    client.v1.coupons.create(params={"id": "B", "amount_off": 100, "currency": "usd", "duration": "forever"})
    clock, _cus, sub = _sub(client, None)
    mark = latest_event_id(client)
    sub = client.v1.subscriptions.update(sub.id, params={"discounts": [{"coupon": "A"}]})
    first = sub.discounts[0]
    assert event_types(client, mark) == ["customer.discount.created", "customer.subscription.updated"]
    upd = client.v1.events.list(params={"type": "customer.subscription.updated", "limit": 1}).data[0]
    assert upd.data.previous_attributes.discounts == []
    sub = client.v1.subscriptions.update(sub.id, params={"discounts": [{"coupon": "B"}, {"discount": first}]})
    assert sub.discounts[1] == first and len(sub.discounts) == 2  # B first: 10% of what B left
    _advance(client, clock, add_months(T0, 1) + 60)
    renewal = _invoices(client, sub)[-1]
    assert [d.amount for d in renewal.total_discount_amounts] == [100, 90] and renewal.total == 810
    mark = latest_event_id(client)
    sub = client.v1.subscriptions.update(sub.id, params={"discounts": ""})
    assert sub.discounts == []
    assert event_types(client, mark) == ["customer.discount.deleted", "customer.discount.deleted",
                                         "customer.subscription.updated"]
    upd = client.v1.events.list(params={"type": "customer.subscription.updated", "limit": 1}).data[0]
    assert len(upd.data.previous_attributes.discounts) == 2
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.subscriptions.update(sub.id, params={"discounts": [{"discount": first}]})
    assert exc.value.http_status == 404


def test_prorations_are_not_discounted(client: stripe.StripeClient) -> None:
    client.v1.coupons.create(params={"id": "HALF", "percent_off": 50, "duration": "forever"})
    clock, _cus, sub = _sub(client, "HALF")
    _advance(client, clock, T0 + 15 * DAY + 12 * 3600)  # half of January
    dearer = monthly_price(client, 3000)
    sub = client.v1.subscriptions.update(sub.id, params={
        "items": [{"id": sub["items"].data[0].id, "price": dearer.id}], "proration_behavior": "always_invoice",
        "expand": ["latest_invoice"]})
    inv = sub.latest_invoice
    assert [(ln.amount, ln.discountable, ln.discount_amounts) for ln in inv.lines.data] == [
        (-500, False, []), (1500, False, [])]
    assert (inv.total, inv.amount_paid, inv.total_discount_amounts) == (1000, 1000, [])
    _advance(client, clock, add_months(T0, 1) + 60)
    assert _invoices(client, sub)[-1].total == 1500


def test_checkout_subscription_with_coupon(client: stripe.StripeClient, http: requests.Session) -> None:
    client.v1.coupons.create(params={"id": "QUARTER", "percent_off": 25, "duration": "forever"})
    price = monthly_price(client)
    cs = client.v1.checkout.sessions.create(params={
        "mode": "subscription", "success_url": "http://127.0.0.1:9/ok", "discounts": [{"coupon": "QUARTER"}],
        "line_items": [{"price": price.id, "quantity": 1}]})
    assert [(d.coupon, d.promotion_code) for d in cs.discounts] == [("QUARTER", None)]
    assert (cs.amount_subtotal, cs.amount_total, cs.total_details.amount_discount) == (1000, 750, 250)
    assert client.v1.checkout.sessions.line_items.list(cs.id).data[0].amount_discount == 250
    assert http.post(cs.url, data={"card_number": "4242424242424242"}, allow_redirects=False).status_code == 303
    cs = client.v1.checkout.sessions.retrieve(cs.id, params={"expand": ["subscription.latest_invoice",
                                                                        "subscription.discounts"]})
    inv = cs.subscription.latest_invoice
    assert (inv.subtotal, inv.total, inv.amount_paid) == (1000, 750, 750) and cs.amount_total == 750
    disc = cs.subscription.discounts[0]
    assert disc.source.coupon == "QUARTER" and disc.subscription == cs.subscription.id
    assert inv.discounts == [disc.id]


def test_checkout_payment_mode_with_coupon(client: stripe.StripeClient, http: requests.Session) -> None:
    client.v1.coupons.create(params={"id": "FIVE", "amount_off": 500, "currency": "usd"})
    prod = client.v1.products.create(params={"name": "Gift"})
    price = client.v1.prices.create(params={"product": prod.id, "currency": "usd", "unit_amount": 2000})
    cs = client.v1.checkout.sessions.create(params={
        "mode": "payment", "success_url": "http://127.0.0.1:9/ok", "discounts": [{"coupon": "FIVE"}],
        "line_items": [{"price": price.id, "quantity": 1}]})
    assert (cs.amount_total, cs.total_details.amount_discount) == (1500, 500)
    assert http.post(cs.url, data={"card_number": "4242424242424242"}, allow_redirects=False).status_code == 303
    cs = client.v1.checkout.sessions.retrieve(cs.id, params={"expand": ["payment_intent"]})
    assert cs.payment_intent.amount == 1500 and cs.payment_status == "paid"
    assert client.v1.coupons.retrieve("FIVE").times_redeemed == 1
    client.v1.coupons.create(params={"id": "ALL", "percent_off": 100})
    free = client.v1.checkout.sessions.create(params={
        "mode": "payment", "success_url": "http://127.0.0.1:9/ok", "discounts": [{"coupon": "ALL"}],
        "line_items": [{"price": price.id, "quantity": 1}]})
    assert http.post(free.url, data={"card_number": "4242424242424242"}, allow_redirects=False).status_code == 303
    free = client.v1.checkout.sessions.retrieve(free.id)
    assert (free.amount_total, free.payment_status, free.payment_intent) == (0, "no_payment_required", None)
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.checkout.sessions.create(params={
            "mode": "payment", "success_url": "http://127.0.0.1:9/ok",
            "discounts": [{"coupon": "FIVE"}, {"coupon": "FIVE"}], "line_items": [{"price": price.id}]})
    assert exc.value.http_status == 400


def test_percent_rounds_half_up_per_line(client: stripe.StripeClient) -> None:
    client.v1.coupons.create(params={"id": "ODD", "percent_off": 12.5, "duration": "forever"})
    client.v1.coupons.create(params={"id": "HALF", "percent_off": 50, "duration": "forever"})
    for coupon, amount, cut in (("ODD", 999, 125), ("HALF", 1001, 501)):  # 124.875 -> 125; a tie, 500.5 -> 501
        _c, _cus, sub = _sub(client, coupon, amount=amount)
        inv = client.v1.invoices.retrieve(sub.latest_invoice)
        assert (inv.total_discount_amounts[0].amount, inv.total) == (cut, amount - cut)


def test_shapes_match_fixtures(client: stripe.StripeClient, official_shapes: dict[str, Any]) -> None:
    reference = official_shapes
    coupon = client.v1.coupons.create(params={"percent_off": 10, "duration": "forever"})
    _c, _cus, sub = _sub(client, coupon.id)
    disc = client.v1.subscriptions.retrieve(sub.id, params={"expand": ["discounts"]}).discounts[0]
    assert set(coupon.to_dict()) == set(reference["coupon"])
    assert set(disc.to_dict()) == set(reference["discount"])
    assert set(client.v1.coupons.delete(coupon.id).to_dict()) == set(reference["deleted_coupon"])
