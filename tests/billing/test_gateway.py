"""The Stripe gateway: plain values out, the project's errors out, and the invoice.paid
read in two requests. Real SDK against stripe_sim; only the error table is offline."""

from __future__ import annotations

from typing import Any

import pytest
import stripe

from membership.billing.gateway import errors as gw
from membership.billing.gateway import settlement, stripe_client
from membership.billing.gateway.customers import fetch_customer
from membership.billing.gateway.subscriptions import fetch_subscription
from membership.billing.processor import ProcessorError, processor_errors
from membership.errors import Conflict
from tests.billing.webhook_support import make_reader, sim_customer
from tests.ledger.money_support import catalogue_price


@pytest.mark.parametrize(("sdk_error", "ours"), [
    (stripe.InvalidRequestError("No such customer", "id", code="resource_missing"), gw.NotFound),
    (stripe.InvalidRequestError("Bad param", "x", code="parameter_invalid_empty"), gw.InvalidRequest),
    (stripe.CardError("Declined", "card", "card_declined"), gw.CardDeclined),
    (stripe.IdempotencyError("Key reused"), gw.IdempotencyConflict),
    (stripe.RateLimitError("Slow down"), gw.RateLimited),
    (stripe.APIConnectionError("Unreachable"), gw.Unavailable),
    (stripe.APIError("Stripe failed"), gw.Unavailable),
    (stripe.AuthenticationError("Bad key"), gw.GatewayError),
])
def test_each_sdk_error_becomes_ours(sdk_error: stripe.StripeError, ours: type[gw.GatewayError]) -> None:
    with pytest.raises(gw.GatewayError) as caught, gw.translated():
        raise sdk_error
    assert type(caught.value) is ours and caught.value.__cause__ is sdk_error
    assert not isinstance(caught.value, stripe.StripeError)


def test_reader_facing_calls_see_409_for_a_reused_key_and_502_for_the_rest() -> None:
    with pytest.raises(Conflict), processor_errors():
        raise gw.IdempotencyConflict("in flight")
    with pytest.raises(ProcessorError) as bad, processor_errors():
        raise gw.CardDeclined("declined", user_message="Your card was declined.")
    assert bad.value.status == 502 and "Your card was declined." in bad.value.detail


def test_missing_objects_read_as_none(client: Any, stripe_sim: Any) -> None:
    assert fetch_customer("cus_missing") is None
    assert fetch_subscription("sub_missing") is None
    with pytest.raises(gw.NotFound):
        settlement.fetch_invoice("in_missing")


def test_a_paid_invoice_is_read_once_with_its_lines_and_settled_charge(
        client: Any, stripe_sim: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    reader = make_reader()
    customer = sim_customer(reader)
    price = catalogue_price(1000)
    sub = stripe_client().v1.subscriptions.create(params={
        "customer": customer.id, "items": [{"price": price.id}], "expand": ["latest_invoice"]})
    invoice = sub.latest_invoice

    calls: list[str] = []
    real = stripe.RequestsClient.request

    def counting(self: stripe.RequestsClient, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        calls.append(f"{method.upper()} {url.split('?')[0]}")
        return real(self, method, url, *args, **kwargs)

    monkeypatch.setattr(stripe.RequestsClient, "request", counting)
    paid = settlement.paid_invoice(invoice.id)

    assert paid is not None and len(calls) == 2, calls  # the invoice (payments expanded), one balance txn
    assert (paid.invoice.id, paid.invoice.subscription_id, paid.invoice.customer_id) == (invoice.id, sub.id, customer.id)
    assert paid.invoice.billing_reason == "subscription_create"
    (line,) = paid.lines
    assert (line.amount, line.quantity, line.price_id) == (1000, 1, price.id)
    assert (line.period_start, line.period_end) == (invoice.lines.data[0].period.start,
                                                    invoice.lines.data[0].period.end)
    (charge,) = paid.charges
    assert charge.txn is not None and (charge.txn.amount, charge.txn.fee, charge.txn.net) == (1000, 59, 941)
    assert charge.txn.currency == "USD" and charge.payment_intent_id
    assert charge == settlement.settled_intent(charge.payment_intent_id)
