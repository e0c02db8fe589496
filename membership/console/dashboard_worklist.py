"""The exceptions worklist at the top of the dashboard: what finance should look at now.

From reports/exceptions.py (failed payments, open disputes, payouts that did not
reconcile, payout lines no payment explains, dead webhook events) and the notices whose
legal window closes unsent (billing/notices/alerts.py). Each list shows its full count
and its first few items, each linked to the reader behind it where there is one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from membership.billing.notices.alerts import alert_report
from membership.db import utcnow
from membership.money import format_money
from membership.reports import exceptions

SHOWN = 5


@dataclass(frozen=True)
class Item:
    text: str
    href: str | None = None


@dataclass(frozen=True)
class Worklist:
    key: str
    title: str
    count: int
    items: list[Item]
    empty: str


def member_link(reader_id: Any) -> str | None:
    return f"/staff/members/{reader_id}" if reader_id else None


def _money(item: dict[str, Any], key: str = "amount_minor") -> str:
    return format_money(int(item[key]), item["currency"]) if item.get(key) is not None else ""


def worklists() -> list[Worklist]:
    found = exceptions.exceptions()
    notices = alert_report(utcnow())
    unmatched = found.unreconciled_payouts.count + found.unattributed_payout_lines.count
    return [
        Worklist("failed", "Failed payments", found.failed_payments.count, [
            Item(f"{i['email']}: {_money(i)} {i['stream'].replace('_', ' ')}, {i['status'].replace('_', ' ')} "
                 f"since {(i['since'] or '')[:10]}", member_link(i["reader_id"]))
            for i in found.failed_payments.items[:SHOWN]], "No subscription is past due."),
        Worklist("disputes", "Open disputes", found.open_disputes.count, [
            Item(f"{i['stripe_charge_id']}: {_money(i)}, {i['reason'] or 'no reason given'}, {i['status'].replace('_', ' ')}",
                 member_link(i["reader_id"]))
            for i in found.open_disputes.items[:SHOWN]], "No open dispute."),
        Worklist("unmatched", "Unmatched balance transactions", unmatched, [
            *(Item(f"Payout {i['stripe_payout_id']} of {_money(i)} does not reconcile: {i['mismatch_note'] or ''}")
              for i in found.unreconciled_payouts.items[:SHOWN]),
            *(Item(f"{i['balance_transaction_id']} ({i['type']}) in payout {i['stripe_payout_id']}: "
                   f"{_money(i, 'net_minor')} not matched to a payment")
              for i in found.unattributed_payout_lines.items[:SHOWN])][:SHOWN],
            "Every payout reconciles."),
        Worklist("webhooks", "Dead webhook events", found.dead_webhook_events.count, [
            Item(f"{i['type']} ({i['stripe_event_id']}), {i['attempts']} attempts: {(i['last_error'] or '')[:80]}")
            for i in found.dead_webhook_events.items[:SHOWN]], "No dead webhook event."),
        Worklist("notices", "Notices about to miss their legal window", len(notices), [
            Item(f"{n['kind'].replace('_', ' ')} to {n['email']}: window "
                 f"{'closed' if n['window_closed'] else 'closes'} {(n['window_closes_at'] or '')[:16].replace('T', ' ')}"
                 f" UTC ({n['status']})", member_link(n["reader_id"]))
            for n in notices[:SHOWN]], "Every notice is within its window."),
    ]
