"""checkout.session.* handlers: expired and async-failed sessions close the local rows;
completed links the reader (re-fetched from stripe_sim, never trusted from the payload)."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from membership.billing import processing
from membership.billing.gateway import stripe_client
from membership.billing.models import CheckoutSession, CheckoutStatus, Donation
from membership.extensions import db
from membership.mail.models import Notice
from membership.mail.render import render_notice

from .webhook_support import deliver, event_body, make_reader, sim_customer


def _session(reader_id: int, customer: str | None = None) -> Any:
    params: dict[str, Any] = {
        "mode": "payment", "success_url": "http://127.0.0.1:9/ok", "cancel_url": "http://127.0.0.1:9/no",
        "line_items": [{"price_data": {"currency": "usd", "unit_amount": 2500,
                                       "product_data": {"name": "Gift"}}, "quantity": 1}],
        "metadata": {"reader_id": str(reader_id)}, "client_reference_id": str(reader_id)}
    if customer:
        params["customer"] = customer
    return stripe_client().v1.checkout.sessions.create(params=params)


def _local_rows(reader_id: int, session_id: str) -> tuple[CheckoutSession, Donation]:
    cs = CheckoutSession(reader_id=reader_id, stripe_session_id=session_id, idempotency_key=f"k-{session_id}",
                         mode="payment", amount_minor=2500, currency="USD")
    donation = Donation(reader_id=reader_id, stripe_checkout_session_id=session_id, amount_minor=2500,
                        currency="USD")
    db.session.add_all([cs, donation])
    db.session.commit()
    return cs, donation


def test_expired_session_closes_the_pending_rows(client: Any, stripe_sim: Any) -> None:
    reader = make_reader()
    session = _session(reader.id)
    cs, donation = _local_rows(reader.id, session.id)
    row_id = deliver(client, json.loads(event_body("checkout.session.expired",
                                                   {"id": session.id, "object": "checkout.session"})))
    assert processing.process(row_id)[0] is processing.Outcome.PROCESSED
    db.session.refresh(cs)
    db.session.refresh(donation)
    assert (cs.status, donation.status) == (CheckoutStatus.EXPIRED, "expired")


def test_async_payment_failed_marks_the_rows_failed(client: Any, stripe_sim: Any) -> None:
    reader = make_reader()
    customer = sim_customer(reader)
    session = _session(reader.id, customer.id)
    cs, donation = _local_rows(reader.id, session.id)
    row_id = deliver(client, json.loads(event_body("checkout.session.async_payment_failed",
                                                   {"id": session.id, "object": "checkout.session"})))
    assert processing.process(row_id)[0] is processing.Outcome.PROCESSED
    db.session.refresh(cs)
    db.session.refresh(donation)
    assert (cs.status, donation.status) == (CheckoutStatus.FAILED, "failed")


def test_async_payment_failed_tells_the_reader_once(app: Any, client: Any, stripe_sim: Any) -> None:
    """The reader left Checkout believing they had paid; the bank debit bounced later.

    stripe_sim has no bank debits, so this test signs the event itself; the session the
    handler re-fetches (amount, customer) is the simulator's."""
    reader = make_reader()
    session = _session(reader.id, sim_customer(reader).id)
    _local_rows(reader.id, session.id)
    for _copy in range(2):  # a second event for the same session (a replay or backfill): still one email
        row_id = deliver(client, json.loads(event_body("checkout.session.async_payment_failed",
                                                       {"id": session.id, "object": "checkout.session"})))
        assert processing.process(row_id)[0] is processing.Outcome.PROCESSED

    notices = db.session.scalars(select(Notice).where(Notice.kind == "checkout_payment_failed")).all()
    assert [(n.email, n.reader_id, n.dedupe_key) for n in notices] == [(reader.email, reader.id, session.id)]
    mail = render_notice(notices[0], app.config["SETTINGS"])
    assert "did not go through" in mail.subject
    assert "$25.00 for your donation" in mail.text and "nothing was taken" in mail.text


def test_completed_payload_is_not_trusted_an_unpaid_session_is_not_fulfilled(client: Any, stripe_sim: Any) -> None:
    """The payload claims `paid`; Stripe (re-fetched) says the session is still open and unpaid."""
    reader = make_reader()
    session = _session(reader.id)
    cs, _donation = _local_rows(reader.id, session.id)
    forged = {"id": session.id, "object": "checkout.session", "payment_status": "paid", "status": "complete"}
    row_id = deliver(client, json.loads(event_body("checkout.session.completed", forged)))
    assert processing.process(row_id)[0] is processing.Outcome.PROCESSED
    db.session.refresh(cs)
    assert cs.status is CheckoutStatus.OPEN and cs.completed_at is None
    assert db.session.scalars(select(CheckoutSession)).all() == [cs]
