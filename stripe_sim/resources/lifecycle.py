"""What happens when a clock reaches a subscription: renewals, dunning, trials.

Each due action is scheduled on the subscription's clock and re-checks the
state when it runs (a stale entry, e.g. for a period already rolled over or a
canceled sub, does nothing), so schedules never need to be unscheduled.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..engine import DAY, DUE, Sim
from ..periods import period_end
from . import discounts, invoice_items
from . import invoices as inv_mod

LIVE = ("active", "past_due", "trialing")
# Run at a period end before it renews (a subscription schedule moves to its next phase here, so the
# renewal already bills the new price); a hook answering True has ended the subscription instead.
BEFORE_RENEWAL: list[Callable[[Sim, dict[str, Any], int], bool]] = []


def period_after(start: int, recurring: dict[str, Any], n: int) -> int:
    return period_end(start, recurring["interval"], int(recurring.get("interval_count") or 1), n)


def _items(sim: Sim, sub: dict[str, Any]) -> list[dict[str, Any]]:
    return [sim.store.get(i) for i in sim.store.m(sub["id"])["items"]]


def current_period(sim: Sim, sub: dict[str, Any]) -> tuple[int, int]:
    si = _items(sim, sub)[0]
    return int(si["current_period_start"]), int(si["current_period_end"])


def schedule_period(sim: Sim, sub: dict[str, Any]) -> None:
    """Queue the end of the current period and the notices that precede it."""
    clock = sim.clock_of(sub)
    start, end = current_period(sim, sub)
    sim.schedule(clock, end, "sub_period_end", sub["id"])
    now = sim.now(clock)
    days = sim.config.upcoming_days
    if days and sub["status"] != "trialing" and end - start > days * DAY and end - days * DAY > now:
        sim.schedule(clock, end - days * DAY, "sub_upcoming", sub["id"])
    notice = sim.config.trial_will_end_days * DAY
    if sub["status"] == "trialing" and sub.get("trial_end"):
        sim.schedule(clock, max(now, int(sub["trial_end"]) - notice), "sub_trial_will_end", sub["id"])


def _price_of(sim: Sim, si: dict[str, Any]) -> dict[str, Any]:
    return sim.store.get(si["price"])


def _advance_items(sim: Sim, sub: dict[str, Any], start: int) -> int:
    """Roll every item to the period starting at ``start``; return the new end."""
    meta = sim.store.m(sub["id"])
    anchor = int(sub["billing_cycle_anchor"])
    rec = _price_of(sim, _items(sim, sub)[0])["recurring"]
    n = 1
    while period_after(anchor, rec, n) <= start:
        n += 1
    end = period_after(anchor, rec, n) if anchor <= start else period_after(start, rec, 1)
    for si in _items(sim, sub):
        si["current_period_start"], si["current_period_end"] = start, end
    meta["cycle"] = n
    return end


def _cycle_invoice(sim: Sim, sub: dict[str, Any], start: int, end: int, prev: tuple[int, int],
                   reason: str = "subscription_cycle") -> dict[str, Any]:
    meta = sim.store.m(sub["id"])
    lines = [inv_mod.item_line(sim, _price_of(sim, si), int(si["quantity"]), start, end, sub["id"], si["id"],
                               meta.get("amounts", {}).get(si["id"])) for si in _items(sim, sub)]
    lines.extend(meta.pop("pending_lines", []))
    lines.extend(invoice_items.pending_lines(sim, sub["customer"], sub["currency"], sub["id"]))
    cus = sim.store.get(sub["customer"])
    inv = inv_mod.new_invoice(sim, cus, sub, lines, reason, sub["currency"], prev)
    invoice_items.claim(sim, inv)
    sub["latest_invoice"] = inv["id"]
    return inv


def charge_invoice(sim: Sim, sub: dict[str, Any], inv: dict[str, Any], now: int) -> bool:
    """Off-session attempt with dunning bookkeeping; flips the sub to past_due on failure."""
    retries = sim.config.retry_days
    done = int(inv["attempt_count"])  # attempts before this one
    if done < len(retries):
        inv["next_payment_attempt"] = now + retries[done] * DAY
    else:
        inv["next_payment_attempt"] = None
    ok = inv_mod.attempt(sim, inv, inv_mod.default_pm(sim, inv), off_session=True)
    if ok:
        inv["next_payment_attempt"] = None
        return True
    if inv["next_payment_attempt"]:
        sim.schedule(sim.clock_of(sub), int(inv["next_payment_attempt"]), "invoice_retry", inv["id"])
    return False


def _set_status(sim: Sim, sub: dict[str, Any], status: str, before: dict[str, Any] | None = None) -> None:
    snap = before if before is not None else sim.render(sub)
    sub["status"] = status
    sim.emit_updated("customer.subscription.updated", sub, snap)


def _end(sim: Sim, sub: dict[str, Any], when: int, reason: str) -> None:
    sub.update(status="canceled", ended_at=when, canceled_at=sub.get("canceled_at") or when)
    sub["cancellation_details"] = dict(sub["cancellation_details"], reason=reason)
    sim.emit("customer.subscription.deleted", sub)


def on_period_end(sim: Sim, sid: str, when: int) -> None:
    sub = sim.store.get(sid)
    if sub["status"] not in LIVE:
        return
    start, end = current_period(sim, sub)
    if end != when:
        return  # stale: the period changed since this was scheduled
    if sub["cancel_at_period_end"] or (sub.get("cancel_at") and int(sub["cancel_at"]) <= when):
        _end(sim, sub, when, "cancellation_requested")
        return
    if any(hook(sim, sub, when) for hook in BEFORE_RENEWAL):
        return
    trial_over = sub["status"] == "trialing"
    if trial_over and not inv_mod.default_pm(sim, {"parent": None, "customer": sub["customer"],
                                                   "default_payment_method": sub["default_payment_method"]}):
        behavior = sub["trial_settings"]["end_behavior"]["missing_payment_method"]
        if behavior == "cancel":
            _end(sim, sub, when, "missing_payment_method")
            return
        if behavior == "pause":
            before = sim.render(sub)
            sub["status"] = "paused"
            sim.emit("customer.subscription.paused", sub)
            sim.emit_updated("customer.subscription.updated", sub, before)
            return
    discounts.expire_due(sim, sub, when)  # its own update event, before the period roll's
    before = sim.render(sub)
    if trial_over:
        sub["billing_cycle_anchor"] = when
    new_end = _advance_items(sim, sub, when)
    if trial_over:
        sub["status"] = "active"
    sim.begin_batch()  # the period roll is published first, already naming the new latest_invoice
    try:
        inv = _cycle_invoice(sim, sub, when, new_end, (start, end))
        sim.emit_updated("customer.subscription.updated", sub, before)
    finally:
        sim.flush_batch(first=("customer.subscription.updated",))
    pause = sub.get("pause_collection")
    if pause:
        inv_mod.finalize(sim, inv) if pause["behavior"] != "keep_as_draft" else None
        if pause["behavior"] == "void":
            inv_mod.void(sim, inv)
        elif pause["behavior"] == "mark_uncollectible":
            inv.update(status="uncollectible")
            sim.emit("invoice.marked_uncollectible", inv)
    elif not charge_invoice(sim, sub, inv, when) and sub["status"] == "active":
        _set_status(sim, sub, "past_due")
    schedule_period(sim, sub)


def on_retry(sim: Sim, iid: str, when: int) -> None:
    inv = sim.store.get(iid)
    if inv["status"] != "open" or inv.get("next_payment_attempt") != when:
        return
    sub = sim.store.find(inv_mod.sub_of(inv))
    if sub is None or sub["status"] not in ("past_due", "active", "unpaid"):
        return
    if charge_invoice(sim, sub, inv, when):
        from .subscriptions import after_invoice_paid

        after_invoice_paid(sim, inv)
        return
    if inv["next_payment_attempt"] is None and sub.get("latest_invoice") == iid:
        if sim.config.dunning_final == "unpaid":
            _set_status(sim, sub, "unpaid")
        else:
            _end(sim, sub, when, "payment_failed")


def on_upcoming(sim: Sim, sid: str, when: int) -> None:
    """``invoice.upcoming``: a preview with no id, for the period about to start."""
    sub = sim.store.get(sid)
    if sub["status"] not in ("active", "past_due") or sub["cancel_at_period_end"] or sub.get("pause_collection"):
        return
    start, end = current_period(sim, sub)
    days = sim.config.upcoming_days
    if end - days * DAY != when:
        return
    rec = _price_of(sim, _items(sim, sub)[0])["recurring"]
    nxt = period_after(end, rec, 1)
    meta = sim.store.m(sid)
    lines = [inv_mod.item_line(sim, _price_of(sim, si), int(si["quantity"]), end, nxt, sid, si["id"],
                               meta.get("amounts", {}).get(si["id"])) for si in _items(sim, sub)]
    lines.extend(meta.get("pending_lines", []))
    lines.extend(invoice_items.pending_lines(sim, sub["customer"], sub["currency"], sid))
    cus = sim.store.get(sub["customer"])
    preview: dict[str, Any] = {"object": "invoice", "created": when, "livemode": False, "metadata": {}}
    preview.update(inv_mod.invoice_body(sim, cus, sub, lines, "upcoming", sub["currency"], (start, end)))
    preview["next_payment_attempt"] = end
    sim.emit("invoice.upcoming", preview, clock=sim.clock_of(sub))


def on_trial_will_end(sim: Sim, sid: str, when: int) -> None:
    sub = sim.store.get(sid)
    if sub["status"] == "trialing" and not sim.store.m(sid).get("trial_notice_sent"):
        sim.store.m(sid)["trial_notice_sent"] = True
        sim.emit("customer.subscription.trial_will_end", sub)


def on_incomplete_expire(sim: Sim, sid: str, when: int) -> None:
    sub = sim.store.get(sid)
    if sub["status"] != "incomplete":
        return
    inv = sim.store.find(sub.get("latest_invoice"))
    if inv is not None and inv["status"] == "open":
        inv_mod.void(sim, inv)
    sub.update(status="incomplete_expired", ended_at=when)
    sim.emit("customer.subscription.deleted", sub)


def on_pause_resumes(sim: Sim, sid: str, when: int) -> None:
    sub = sim.store.get(sid)
    pause = sub.get("pause_collection")
    if pause and pause.get("resumes_at") == when:
        before = sim.render(sub)
        sub["pause_collection"] = None
        sim.emit_updated("customer.subscription.updated", sub, before)


def resume(sim: Sim, sub: dict[str, Any]) -> None:
    """Paused -> a fresh period from now, invoiced at once (billing_cycle_anchor=now)."""
    now = sim.now(sim.clock_of(sub))
    discounts.expire_due(sim, sub, now)
    before = sim.render(sub)
    prev = current_period(sim, sub)
    sub["billing_cycle_anchor"] = now
    end = _advance_items(sim, sub, now)
    sub["status"] = "active"
    sim.emit("customer.subscription.resumed", sub)
    sim.emit_updated("customer.subscription.updated", sub, before)
    inv = _cycle_invoice(sim, sub, now, end, prev, "subscription_update")
    if not charge_invoice(sim, sub, inv, now):
        _set_status(sim, sub, "past_due")
    schedule_period(sim, sub)


DUE.update({
    "sub_period_end": on_period_end, "invoice_retry": on_retry, "sub_upcoming": on_upcoming,
    "sub_trial_will_end": on_trial_will_end, "sub_incomplete_expire": on_incomplete_expire,
    "sub_pause_resumes": on_pause_resumes,
})
