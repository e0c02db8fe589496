"""Subscription schedules: planned changes to a subscription (e.g. a plan change at period end).

A schedule owns a subscription through phases. The common membership case is
``from_subscription`` (one phase mirroring the current period) followed by an
update adding a second phase with the new price: at the period end the phase
switches before the renewal is invoiced, so that invoice already bills the new
price. After the last phase the schedule ``completed`` and either releases the
subscription (``end_behavior=release``) or cancels it (``cancel``).
``/release`` lets go at once (``released``), ``/cancel`` cancels both.
A phase ending mid-period changes the items then, with the phase's
``proration_behavior``. Phases keep the subscription's number of items.
"""

from __future__ import annotations

from typing import Any

from .. import errors
from ..engine import DUE, RENDERERS, Sim
from ..listing import paginate
from ..params import as_dict, as_int, as_list, as_str, metadata
from ..periods import period_end
from ..routing import Request, route
from . import lifecycle
from .subscriptions import create_subscription, items_of, resolve_price


def _phase(sim: Sim, spec: dict[str, Any], i: int, start: int, currency: str | None) -> dict[str, Any]:
    param = f"phases[{i}]"
    raw = as_list(spec, "items")
    if not raw:
        raise errors.invalid(f"Missing required param: {param}[items].", f"{param}[items]")
    items = []
    for j, item in enumerate(raw):
        price = resolve_price(sim, item if isinstance(item, dict) else {}, f"{param}[items][{j}]")
        if price["type"] != "recurring":
            raise errors.invalid("Phase items must use recurring prices.", f"{param}[items][{j}][price]")
        if currency and price["currency"] != currency:
            raise errors.invalid("All phases must use the subscription's currency.", f"{param}[items][{j}][price]")
        items.append({"billing_thresholds": None, "discounts": [], "metadata": metadata(item), "plan": price["id"],
                      "price": price["id"], "quantity": int(item.get("quantity") or 1), "tax_rates": []})
    rec = sim.store.get(items[0]["price"])["recurring"]
    dur = as_dict(spec, "duration")
    end = as_int(spec, "end_date") if spec.get("end_date") not in (None, "", "now") else None
    if dur:
        end = period_end(start, str(dur.get("interval")), int(dur.get("interval_count") or 1), 1)
    if end is None:
        end = lifecycle.period_after(start, rec, 1)  # a phase with no end lasts one billing period
    if end <= start:
        raise errors.invalid("A phase must end after it starts.", f"{param}[end_date]")
    behavior = as_str(spec, "proration_behavior", "create_prorations") or "create_prorations"
    return {"add_invoice_items": [], "application_fee_percent": None, "billing_cycle_anchor": None,
            "billing_thresholds": None, "collection_method": None,
            "currency": sim.store.get(items[0]["price"])["currency"], "default_payment_method": None,
            "default_tax_rates": [], "description": as_str(spec, "description"), "discounts": [], "end_date": end,
            "invoice_settings": None, "items": items, "metadata": metadata(spec), "on_behalf_of": None,
            "proration_behavior": behavior, "start_date": start, "transfer_data": None, "trial_end": None}


def _phases(sim: Sim, specs: list[Any], start: int, currency: str | None) -> list[dict[str, Any]]:
    if not specs:
        raise errors.invalid("Missing required param: phases.", "phases")
    out: list[dict[str, Any]] = []
    for i, spec in enumerate(specs):
        spec = spec if isinstance(spec, dict) else {}
        begin = start if i == 0 else out[-1]["end_date"]
        if i == 0 and spec.get("start_date") not in (None, "", "now"):
            begin = int(spec["start_date"])
        out.append(_phase(sim, spec, i, begin, currency))
    return out


def _new(sim: Sim, customer: dict[str, Any], phases: list[dict[str, Any]], p: dict[str, Any]) -> dict[str, Any]:
    behavior = as_str(p, "end_behavior", "release") or "release"
    if behavior not in ("release", "cancel"):
        raise errors.invalid("Invalid end_behavior: must be one of release or cancel", "end_behavior")
    clock = customer.get("test_clock")
    return sim.new("sub_sched", "subscription_schedule", clock, {
        "application": None, "billing_mode": {"flexible": None, "type": "classic", "updated_at": None},
        "canceled_at": None, "completed_at": None, "current_phase": None, "customer": customer["id"],
        "customer_account": None,
        "default_settings": {"application_fee_percent": None, "automatic_tax": {
            "disabled_reason": None, "enabled": False, "liability": None}, "billing_cycle_anchor": "automatic",
            "billing_thresholds": None, "collection_method": "charge_automatically",
            "default_payment_method": None, "description": None, "invoice_settings": {
                "account_tax_ids": None, "days_until_due": None, "issuer": {"type": "self"}},
            "on_behalf_of": None, "transfer_data": None},
        "end_behavior": behavior, "metadata": metadata(p), "phases": phases, "released_at": None,
        "released_subscription": None, "status": "not_started", "subscription": None, "test_clock": clock})


def _attach(sim: Sim, sched: dict[str, Any], sub: dict[str, Any]) -> None:
    before = sim.render(sub)
    sub["schedule"] = sched["id"]
    sched.update(subscription=sub["id"], status="active")
    _set_current(sim, sched, sim.now(sim.clock_of(sub)))
    sim.emit_updated("customer.subscription.updated", sub, before)


def _set_current(sim: Sim, sched: dict[str, Any], at: int) -> None:
    """``current_phase`` = the phase covering ``at``; each later phase boundary is queued."""
    for ph in sched["phases"]:
        if int(ph["start_date"]) <= at < int(ph["end_date"]):
            sched["current_phase"] = {"end_date": ph["end_date"], "start_date": ph["start_date"]}
            break
    for ph in sched["phases"]:
        if int(ph["end_date"]) > at:
            sim.schedule(sim.clock_of(sched), int(ph["end_date"]), "schedule_phase_end", sched["id"])


@route("POST", "/v1/subscription_schedules")
def _create(sim: Sim, req: Request) -> dict[str, Any]:
    p = req.params
    from_sub = as_str(p, "from_subscription")
    if from_sub:
        if p.get("phases") or p.get("customer"):
            raise errors.invalid("You cannot set phases or customer when using from_subscription.",
                                 "from_subscription")
        sub = sim.store.get(from_sub, "subscription", "from_subscription")
        if sub.get("schedule"):
            raise errors.invalid(f"The subscription {sub['id']} is already attached to a schedule.",
                                 "from_subscription")
        if sub["status"] not in lifecycle.LIVE:
            raise errors.invalid("Only live subscriptions can be managed by a schedule.", "from_subscription")
        start, end = lifecycle.current_period(sim, sub)
        phase = {"items": [{"price": si["price"], "quantity": si["quantity"]} for si in items_of(sim, sub)],
                 "end_date": end}
        sched = _new(sim, sim.store.get(sub["customer"]), _phases(sim, [phase], start, sub["currency"]), p)
        sim.emit("subscription_schedule.created", sched)
        _attach(sim, sched, sub)
        return sim.render(sched)
    cus = sim.store.get(as_str(p, "customer", required=True), "customer", "customer")
    now = sim.now(cus.get("test_clock"))
    start = now if p.get("start_date") in (None, "", "now") else as_int(p, "start_date") or now
    sched = _new(sim, cus, _phases(sim, as_list(p, "phases"), start, None), p)
    sim.emit("subscription_schedule.created", sched)
    if start <= now:
        _start(sim, sched, now)
    else:
        sim.schedule(cus.get("test_clock"), start, "schedule_start", sched["id"])
    return sim.render(sched)


def _start(sim: Sim, sched: dict[str, Any], when: int) -> None:
    """A not-yet-started schedule creates its subscription from phase 0."""
    if sched["status"] != "not_started":
        return
    cus = sim.store.get(sched["customer"])
    phase = sched["phases"][0]
    items: list[tuple[dict[str, Any], int, int | None]] = [
        (sim.store.get(it["price"]), int(it["quantity"]), None) for it in phase["items"]]
    sub = create_subscription(sim, cus, items, pm_id=cus["invoice_settings"].get("default_payment_method"),
                              md={}, set_default=False)
    before = sim.render(sched)
    _attach(sim, sched, sub)
    sim.emit_updated("subscription_schedule.updated", sched, before)


DUE["schedule_start"] = lambda sim, sid, when: _start(sim, sim.store.get(sid), when)


def _apply(sim: Sim, sched: dict[str, Any], sub: dict[str, Any], phase: dict[str, Any], when: int,
           at_period_end: bool) -> None:
    """Make the subscription's items those of ``phase``: directly at a period boundary, else as an update."""
    sis = items_of(sim, sub)
    if at_period_end:
        before = sim.render(sub)
        old_interval = sim.store.get(sis[0]["price"])["recurring"]["interval"]
        for si, it in zip(sis, phase["items"], strict=True):
            si["price"], si["quantity"] = it["price"], int(it["quantity"])
            sim.store.m(sub["id"]).get("amounts", {}).pop(si["id"], None)
        if sim.store.get(sis[0]["price"])["recurring"]["interval"] != old_interval:
            sub["billing_cycle_anchor"] = when  # a new interval restarts the cycle at the phase start
        sim.emit_updated("customer.subscription.updated", sub, before)
        return
    from .sub_update import update_subscription

    update_subscription(sim, sub, {"proration_behavior": phase["proration_behavior"], "items": [
        {"id": si["id"], "price": it["price"], "quantity": str(it["quantity"])}
        for si, it in zip(sis, phase["items"], strict=True)]})


def _advance(sim: Sim, sched: dict[str, Any], sub: dict[str, Any], when: int, at_period_end: bool) -> bool:
    """Move past every phase ending by ``when``; True when the subscription was canceled (end_behavior)."""
    if sched["status"] != "active":
        return False
    nxt = next((ph for ph in sched["phases"] if int(ph["start_date"]) <= when < int(ph["end_date"])), None)
    cur = sched["current_phase"]
    if cur is not None and nxt is not None and nxt["start_date"] == cur["start_date"]:
        return False  # nothing ended
    before = sim.render(sched)
    if nxt is not None:
        sched["current_phase"] = {"end_date": nxt["end_date"], "start_date": nxt["start_date"]}
        _apply(sim, sched, sub, nxt, when, at_period_end)
        sim.emit_updated("subscription_schedule.updated", sched, before)
        return False
    sched.update(status="completed", completed_at=when, current_phase=None)
    sub_before = sim.render(sub)
    sub["schedule"] = None
    sim.emit("subscription_schedule.completed", sched)
    if sched["end_behavior"] == "cancel":
        lifecycle._end(sim, sub, when, "cancellation_requested")
        return True
    sim.emit_updated("customer.subscription.updated", sub, sub_before)
    return False


def _before_renewal(sim: Sim, sub: dict[str, Any], when: int) -> bool:
    sched = sim.store.find(sub.get("schedule"))
    return sched is not None and _advance(sim, sched, sub, when, at_period_end=True)


lifecycle.BEFORE_RENEWAL.append(_before_renewal)


def _on_phase_end(sim: Sim, sid: str, when: int) -> None:
    """A phase boundary off the billing cycle; one on it is left to the renewal (``_before_renewal``)."""
    sched = sim.store.get(sid)
    sub = sim.store.find(sched.get("subscription"))
    if sub is None or sched["status"] != "active" or sub["status"] not in lifecycle.LIVE:
        return
    if lifecycle.current_period(sim, sub)[1] != when:
        _advance(sim, sched, sub, when, at_period_end=False)


DUE["schedule_phase_end"] = _on_phase_end


def _live(sim: Sim, sid: str) -> dict[str, Any]:
    sched = sim.store.get(sid, "subscription_schedule")
    if sched["status"] not in ("not_started", "active"):
        raise errors.invalid(f"You cannot update a subscription schedule that is {sched['status']}.")
    return sched


@route("POST", "/v1/subscription_schedules/{id}")
def _update(sim: Sim, req: Request) -> dict[str, Any]:
    sched = _live(sim, req.args["id"])
    p = req.params
    sub = sim.store.find(sched["subscription"])
    before = sim.render(sched)
    if "phases" in p:
        cur = sched["current_phase"] or {"start_date": sched["phases"][0]["start_date"]}
        phases = _phases(sim, as_list(p, "phases"), int(cur["start_date"]), sub["currency"] if sub else None)
        if sub is not None and any(len(ph["items"]) != len(items_of(sim, sub)) for ph in phases):
            raise errors.invalid("stripe_sim: every phase must have as many items as the subscription.", "phases")
        sched["phases"] = phases
        if sub is not None:
            now = sim.now(sim.clock_of(sub))
            _set_current(sim, sched, now)
            cur_phase = next((ph for ph in phases if int(ph["start_date"]) <= now < int(ph["end_date"])), None)
            if cur_phase is not None and [(it["price"], it["quantity"]) for it in cur_phase["items"]] != [
                    (si["price"], si["quantity"]) for si in items_of(sim, sub)]:
                _apply(sim, sched, sub, cur_phase, now, at_period_end=False)
    if "end_behavior" in p:
        if p["end_behavior"] not in ("release", "cancel"):
            raise errors.invalid("Invalid end_behavior: must be one of release or cancel", "end_behavior")
        sched["end_behavior"] = p["end_behavior"]
    if "metadata" in p:
        sched["metadata"] = metadata(p, sched["metadata"])
    sim.emit_updated("subscription_schedule.updated", sched, before)
    return sim.render(sched)


@route("POST", "/v1/subscription_schedules/{id}/release")
def _release(sim: Sim, req: Request) -> dict[str, Any]:
    sched = _live(sim, req.args["id"])
    sub = sim.store.find(sched["subscription"])
    now = sim.now(sim.clock_of(sched))
    sched.update(status="released", released_at=now, released_subscription=sched["subscription"],
                 subscription=None, current_phase=None)
    sim.emit("subscription_schedule.released", sched)
    if sub is not None:
        before = sim.render(sub)
        sub["schedule"] = None
        sim.emit_updated("customer.subscription.updated", sub, before)
    return sim.render(sched)


@route("POST", "/v1/subscription_schedules/{id}/cancel")
def _cancel(sim: Sim, req: Request) -> dict[str, Any]:
    sched = _live(sim, req.args["id"])
    sub = sim.store.find(sched["subscription"])
    now = sim.now(sim.clock_of(sched))
    sched.update(status="canceled", canceled_at=now, current_phase=None)
    sim.emit("subscription_schedule.canceled", sched)
    if sub is not None and sub["status"] not in ("canceled", "incomplete_expired"):
        from .subscriptions import cancel_now

        cancel_now(sim, sub, "cancellation_requested")
    return sim.render(sched)


@route("GET", "/v1/subscription_schedules/{id}")
def _get(sim: Sim, req: Request) -> dict[str, Any]:
    return sim.render(sim.store.get(req.args["id"], "subscription_schedule"))


@route("GET", "/v1/subscription_schedules")
def _list(sim: Sim, req: Request) -> dict[str, Any]:
    customer = as_str(req.params, "customer")
    return paginate(sim, req.params, "subscription_schedule", "/v1/subscription_schedules",
                    [(lambda o: o["customer"] == customer) if customer else None])


RENDERERS["subscription_schedule"] = lambda sim, s: dict(s)
