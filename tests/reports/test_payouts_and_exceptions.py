"""Payout reconciliation and exceptions reports over rows as the webhook workers leave
them (built directly here: the reports are queries; the workers' side is tested in
tests/billing/test_money_payouts.py)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Any

import pytest

from membership.billing.models import Dispute, Payout, PayoutLine, WebhookEvent, WebhookStatus
from membership.enums import StaffRole, Stream, SubscriptionStatus
from membership.extensions import db
from membership.staff.services import create_staff_user
from tests.factories.billing import PaymentFactory, SubscriptionFactory
from tests.readers.helpers import unique_email

MARCH = "start=2026-03-01&end=2026-04-01"


def _payout(stripe_id: str, amount: int, arrival: datetime, lines: list[tuple[Stream | None, int]],
            reconciled: bool = True) -> Payout:
    payout = Payout(stripe_payout_id=stripe_id, amount_minor=amount, currency="USD", status="paid",
                    arrival_date=arrival, lines_net_minor=sum(n for _s, n in lines),
                    reconciled_at=arrival if reconciled else None,
                    mismatch_note=None if reconciled else "lines do not add up")
    db.session.add(payout)
    db.session.flush()
    for n, (stream, net) in enumerate(lines):
        db.session.add(PayoutLine(payout_id=payout.id, balance_transaction_id=f"txn_{stripe_id}_{n}", type="charge",
                                  reporting_category="charge", source_id=f"ch_{stripe_id}_{n}", stream=stream,
                                  amount_minor=net, fee_minor=0, net_minor=net, currency="USD"))
    return payout


@pytest.fixture
def staff(client: Any) -> dict[str, str]:
    march = datetime(2026, 3, 10, 12, tzinfo=UTC)
    _payout("po_ok", 3000, march, [(Stream.MEMBERSHIP, 1000), (Stream.MEMBERSHIP, 500),
                                   (Stream.ONE_TIME_DONATION, 1500)])
    _payout("po_short", 2000, datetime(2026, 3, 31, 12, tzinfo=UTC), [(Stream.RECURRING_DONATION, 900),
                                                                      (None, 1000)], reconciled=False)
    _payout("po_april", 700, datetime(2026, 4, 1, 12, tzinfo=UTC), [(Stream.MEMBERSHIP, 700)])
    SubscriptionFactory(status=SubscriptionStatus.PAST_DUE, past_due_since=march)
    SubscriptionFactory(status=SubscriptionStatus.ACTIVE)
    payment = PaymentFactory(gross_minor=2500, fee_minor=103, net_minor=2397, currency="USD", paid_at=march)
    db.session.add_all([
        Dispute(payment_id=payment.id, stripe_dispute_id="du_open", amount_minor=2500, currency="USD",
                status="needs_response", reason="fraudulent"),
        Dispute(payment_id=payment.id, stripe_dispute_id="du_won", amount_minor=2500, currency="USD", status="won"),
        WebhookEvent(stripe_event_id="evt_dead", type="invoice.paid", stripe_created=0, payload="{}",
                     status=WebhookStatus.DEAD, attempts=8, last_error="no reader yet"),
        WebhookEvent(stripe_event_id="evt_fine", type="invoice.paid", stripe_created=0, payload="{}",
                     status=WebhookStatus.PROCESSED),
    ])
    _user, token = create_staff_user(unique_email("fin"), StaffRole.FINANCE)
    db.session.commit()
    return {"Authorization": f"Bearer {token}"}


def test_payouts_of_the_period_with_lines_by_stream(client: Any, staff: dict[str, str]) -> None:
    body = client.get(f"/api/staff/reports/payouts?{MARCH}", headers=staff).get_json()
    assert [p["stripe_payout_id"] for p in body["payouts"]] == ["po_ok", "po_short"]  # April's is not March's
    ok, short = body["payouts"]
    assert (ok["reconciled"], ok["difference_minor"], ok["line_count"]) == (True, 0, 3)
    assert ok["net_by_stream"] == {"membership": 1500, "recurring_donation": 0, "one_time_donation": 1500,
                                   "other": 0, "unattributed": 0}
    assert (short["reconciled"], short["difference_minor"]) == (False, -100)
    assert (short["net_by_stream"]["recurring_donation"], short["net_by_stream"]["unattributed"]) == (900, 1000)
    rows = list(csv.DictReader(io.StringIO(
        client.get(f"/api/staff/reports/payouts?{MARCH}&format=csv", headers=staff).get_data(as_text=True))))
    assert [(r["stripe_payout_id"], r["membership"], r["difference_minor"]) for r in rows] == [
        ("po_ok", "1500", "0"), ("po_short", "0", "-100")]


def test_exceptions_list_what_needs_a_look(client: Any, staff: dict[str, str]) -> None:
    assert client.get("/api/staff/reports/exceptions").status_code == 401
    body = client.get("/api/staff/reports/exceptions", headers=staff).get_json()
    assert (body["report"], body["version"]) == ("exceptions", 1)
    assert [(i["status"], i["amount_minor"]) for i in body["failed_payments"]["items"]] == [("past_due", 1000)]
    assert [i["stripe_dispute_id"] for i in body["open_disputes"]["items"]] == ["du_open"]
    assert [i["stripe_payout_id"] for i in body["unreconciled_payouts"]["items"]] == ["po_short"]
    assert [(i["stripe_payout_id"], i["net_minor"]) for i in body["unattributed_payout_lines"]["items"]] == [
        ("po_short", 1000)]
    assert (body["dead_webhook_events"]["count"], body["dead_webhook_events"]["items"][0]["last_error"]) == (
        1, "no reader yet")
