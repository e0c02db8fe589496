"""Subscription schedules: a plan change that waits for the next renewal.

A downgrade keeps the reader on the tier they paid for until the period ends, then
bills the lower tier from the renewal on. Stripe's way to say that is a schedule with
two phases: the current price until the period end, then the new one (the schedule
is released after that phase, so the subscription simply continues on it). The
account page reads the pending phase back (`pending_change`) so it can say what will
happen and when; an upgrade, a cancellation or "keep my plan" lets the schedule go
first (`release_schedule`), so nothing planned earlier overrides them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from membership.billing.gateway.client import stripe_client
from membership.billing.gateway.errors import translating
from membership.billing.gateway.shapes import as_dict, id_of


@dataclass(frozen=True)
class PendingChange:
    """The price the subscription moves to at `starts_at` (unix seconds)."""

    stripe_price_id: str
    starts_at: int


def _subscription(subscription_id: str) -> dict[str, Any]:
    return as_dict(stripe_client().v1.subscriptions.retrieve(subscription_id, params={"expand": ["schedule"]}))


def _live_schedule(sub: dict[str, Any]) -> dict[str, Any] | None:
    schedule = sub.get("schedule")
    if isinstance(schedule, dict) and schedule.get("status") in ("not_started", "active"):
        return schedule
    return None


@translating
def defer_price(subscription_id: str, stripe_price_id: str, *, metadata: dict[str, str]) -> None:
    """From the next renewal bill `stripe_price_id`: no proration, no credit, no charge now.

    No idempotency key on the create: a released schedule's replay would come back
    (and could not be updated); a second create for the same subscription is refused
    by Stripe instead (already attached), so a double click cannot make two."""
    client = stripe_client()
    sub = _subscription(subscription_id)
    schedule = _live_schedule(sub)
    if schedule is None:
        schedule = as_dict(client.v1.subscription_schedules.create(params={"from_subscription": subscription_id}))
    item = sub["items"]["data"][0]
    current = schedule.get("current_phase") or {"start_date": schedule["phases"][0]["start_date"]}
    quantity = int(item.get("quantity") or 1)
    phases: list[dict[str, Any]] = [
        {"items": [{"price": id_of(item["price"]), "quantity": quantity}],
         "start_date": int(current["start_date"]), "end_date": int(item["current_period_end"])},
        {"items": [{"price": stripe_price_id, "quantity": quantity}], "proration_behavior": "none",
         "metadata": metadata},
    ]
    client.v1.subscription_schedules.update(str(schedule["id"]), params={  # type: ignore[arg-type]
        "phases": phases, "end_behavior": "release"})


@translating
def pending_change(subscription_id: str) -> PendingChange | None:
    """The next phase's price when a live schedule will change it; else None."""
    sub = _subscription(subscription_id)
    schedule = _live_schedule(sub)
    if schedule is None:
        return None
    current_price = id_of(sub["items"]["data"][0]["price"])
    current = schedule.get("current_phase") or {}
    for phase in schedule.get("phases") or []:
        price = id_of(phase["items"][0]["price"])
        if int(phase["start_date"]) >= int(current.get("end_date") or 0) and price != current_price:
            return PendingChange(str(price), int(phase["start_date"]))
    return None


@translating
def release_schedule(subscription_id: str) -> bool:
    """Let go of a live schedule (the subscription keeps its current price); True if one was."""
    schedule = _live_schedule(_subscription(subscription_id))
    if schedule is None:
        return False
    stripe_client().v1.subscription_schedules.release(str(schedule["id"]))
    return True
