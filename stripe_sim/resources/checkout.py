"""Checkout Sessions (modes subscription and payment) and their completion.

Completion is driven by the hosted page (pages.py) and produces the objects
and events Stripe's Checkout would, ending with ``checkout.session.completed``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .. import errors
from ..engine import DUE, INCLUDABLE, Sim, list_object
from ..listing import paginate
from ..params import as_bool, as_dict, as_int, as_list, as_str, metadata
from ..routing import Request, route
from . import discounts, promotion_codes
from .coupons import redeemable
from .customers import create_customer
from .payment_methods import DECLINE_MESSAGES, card_for_number, new_card_pm
from .payments import confirm_pi, create_pi
from .subscriptions import create_subscription, resolve_price

_IMMEDIATE_DECLINES = ("generic_decline", "insufficient_funds", "expired_card")


def _line_items(sim: Sim, params: dict[str, Any], mode: str) -> list[list[Any]]:
    raw = as_list(params, "line_items")
    if not raw:
        raise errors.invalid("Missing required param: line_items.", "line_items")
    out = []
    for i, spec in enumerate(raw):
        price = resolve_price(sim, spec, f"line_items[{i}]")
        if mode == "payment" and price["type"] == "recurring":
            raise errors.invalid("You must specify `mode=subscription` when passing a recurring price.",
                                 f"line_items[{i}][price]")
        if mode == "subscription" and price["type"] != "recurring":
            raise errors.invalid("`mode=subscription` requires at least one recurring price.",
                                 f"line_items[{i}][price]")
        out.append([price["id"], int(spec.get("quantity") or 1), None])
    return out


def _amounts(sim: Sim, items: list[list[Any]]) -> list[int] | None:
    """Each line's pre-discount amount; None while a pay-what-you-want amount is still unknown."""
    out = []
    for pid, qty, amount in items:
        price = sim.store.get(pid)
        unit = amount if amount is not None else price["unit_amount"]
        if unit is None:
            preset = (price["custom_unit_amount"] or {}).get("preset")
            if preset is None:
                return None
            unit = preset
        out.append(int(unit) * int(qty))
    return out


def _totals(sim: Sim, items: list[list[Any]]) -> int | None:
    amounts = _amounts(sim, items)
    return None if amounts is None else sum(amounts)


def _line_discounts(sim: Sim, cs: dict[str, Any], items: list[list[Any]]) -> list[int]:
    """What the session's coupon takes off each line (the same arithmetic as an invoice's)."""
    amounts = _amounts(sim, items)
    coupons = [r.coupon for r in redemptions(sim, cs)]
    if amounts is None or not coupons:
        return [0] * len(items)
    return [sum(col) for col in zip(*discounts.allocate(amounts, coupons), strict=True)]


@route("POST", "/v1/checkout/sessions")
def _create(sim: Sim, req: Request) -> dict[str, Any]:
    p = req.params
    mode = as_str(p, "mode", required=True) or ""
    if mode not in ("payment", "setup", "subscription"):
        raise errors.invalid("Invalid mode: must be one of payment, setup, or subscription", "mode")
    customer = as_str(p, "customer")
    if customer:
        sim.store.get(customer, "customer", "customer")
    if mode == "setup":
        for gone in ("line_items", "discounts", "allow_promotion_codes"):
            if p.get(gone):
                raise errors.invalid(f"You cannot pass {gone} in `setup` mode.", gone)
    items = _line_items(sim, p, mode) if mode != "setup" else []
    clock = sim.clock_of_customer(customer)
    now = sim.now(clock)
    total = _totals(sim, items) if items else None
    currency = sim.store.get(items[0][0])["currency"] if items else (as_str(p, "currency") or "").lower() or None
    allow_promo = as_bool(p, "allow_promotion_codes")
    if allow_promo and p.get("discounts"):
        raise errors.invalid("You may only specify one of these parameters: allow_promotion_codes, discounts.",
                             "allow_promotion_codes")
    coupons = [c for c in discounts.requested_coupons(sim, p, currency or "", now, limit=1, customer=customer,
                                                      amount=total) if isinstance(c, discounts.Redeem)]
    cs = sim.new("cs", "checkout.session", clock, {
        "adaptive_pricing": {"enabled": False}, "after_expiration": None,
        "allow_promotion_codes": allow_promo, "amount_subtotal": total, "amount_total": total,
        "automatic_tax": {"enabled": False, "liability": None, "provider": None, "status": None},
        "billing_address_collection": as_str(p, "billing_address_collection"), "cancel_url": as_str(p, "cancel_url"),
        "client_reference_id": as_str(p, "client_reference_id"), "client_secret": None,
        "collected_information": None, "consent": None, "consent_collection": None, "currency": currency,
        "currency_conversion": None, "custom_fields": [],
        "custom_text": {"after_submit": None, "shipping_address": None, "submit": None,
                        "terms_of_service_acceptance": None},
        "customer": customer, "customer_account": None,
        "customer_creation": None if customer or mode != "payment" else
        (as_str(p, "customer_creation") or "if_required"),
        "customer_details": None, "customer_email": as_str(p, "customer_email"),
        "discounts": _discount_rows(coupons),
        "expires_at": as_int(p, "expires_at") or now + 86400, "integration_identifier": None, "invoice": None,
        "invoice_creation": None if mode != "payment" else {"enabled": False, "invoice_data": {
            "account_tax_ids": None, "custom_fields": None, "description": None, "footer": None, "issuer": None,
            "metadata": {}, "rendering_options": None}},
        "locale": as_str(p, "locale"), "managed_payments": None, "metadata": metadata(p), "mode": mode,
        "origin_context": None, "payment_intent": None, "payment_link": None,
        "payment_method_collection": as_str(p, "payment_method_collection", "always"),
        "payment_method_configuration_details": None,
        "payment_method_options": {"card": {"request_three_d_secure": "automatic"}},
        "payment_method_types": ["card"], "payment_status": "unpaid", "permissions": None,
        "phone_number_collection": {"enabled": False}, "recovered_from": None,
        "saved_payment_method_options": None, "setup_intent": None, "shipping_address_collection": None,
        "shipping_cost": None, "shipping_options": [], "status": "open", "submit_type": as_str(p, "submit_type"),
        "subscription": None, "success_url": as_str(p, "success_url"),
        "total_details": {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
        "ui_mode": "hosted_page", "url": None, "wallet_options": None,
    }, line_items=items, subscription_data=as_dict(p, "subscription_data"),
        payment_intent_data=as_dict(p, "payment_intent_data"), setup_intent_data=as_dict(p, "setup_intent_data"),
        coupons=[[c.coupon["id"], c.promo["id"] if c.promo else None] for c in coupons])
    cs["url"] = f"{sim.url}/checkout/{cs['id']}"
    if items:
        _set_amounts(sim, cs, items)
    else:  # setup mode: nothing to pay, ever
        cs["payment_status"] = "no_payment_required"
    sim.schedule(clock, int(cs["expires_at"]), "cs_expire", cs["id"])
    return sim.render(cs)


def _discount_rows(redeems: list[discounts.Redeem]) -> list[dict[str, Any]]:
    """A promotion code shows as itself; a coupon passed directly as the coupon."""
    return [{"coupon": None if r.promo else r.coupon["id"], "promotion_code": r.promo["id"] if r.promo else None}
            for r in redeems]


def redemptions(sim: Sim, cs: dict[str, Any]) -> list[discounts.Redeem]:
    out = []
    for entry in sim.store.m(cs["id"]).get("coupons", []):
        cid, pid = (entry, None) if isinstance(entry, str) else entry  # older state files kept coupon ids only
        out.append(discounts.Redeem(sim.store.get(cid), sim.store.get(pid) if pid else None))
    return out


def apply_code(sim: Sim, cs: dict[str, Any], code: str) -> None:
    """What a reader types into the page's promotion code field (``allow_promotion_codes``)."""
    if not cs["allow_promotion_codes"]:
        raise errors.invalid("This Checkout Session does not accept promotion codes.", "promotion_code")
    promo = promotion_codes.by_code(sim, code)
    if promo is None:
        raise errors.invalid("This code is invalid.", "promotion_code")
    now = sim.now(sim.clock_of(cs))
    promotion_codes.check_promo(sim, promo, "promotion_code", customer=cs["customer"],
                                amount=_totals(sim, sim.store.m(cs["id"])["line_items"]), currency=cs["currency"],
                                now=now)
    coupon = redeemable(sim, promo["promotion"]["coupon"], "promotion_code", cs["currency"], now)
    sim.store.m(cs["id"])["coupons"] = [[coupon["id"], promo["id"]]]
    cs["discounts"] = _discount_rows([discounts.Redeem(coupon, promo)])


def _set_amounts(sim: Sim, cs: dict[str, Any], items: list[list[Any]]) -> int:
    """amount_subtotal / amount_total / total_details.amount_discount; returns what is left to pay."""
    total = _totals(sim, items)
    cut = sum(_line_discounts(sim, cs, items))
    cs["amount_subtotal"] = total
    cs["amount_total"] = None if total is None else total - cut
    cs["total_details"] = dict(cs["total_details"], amount_discount=cut)
    return 0 if total is None else total - cut


def needs_amount(sim: Sim, cs: dict[str, Any]) -> dict[str, Any] | None:
    """The custom_unit_amount price whose amount the reader types, if any."""
    for pid, _qty, amount in sim.store.m(cs["id"])["line_items"]:
        price = sim.store.get(pid)
        if price["unit_amount"] is None and amount is None:
            return price
    return None


def complete(sim: Sim, cs: dict[str, Any], card_number: str, amount: int | None = None,
             email: str | None = None, name: str | None = None, promotion_code: str | None = None) -> None:
    """Pay the session; raises a 402 StripeError on decline (session stays open)."""
    if cs["status"] != "open":
        raise errors.invalid(f"This Checkout Session is {cs['status']}.", code="checkout_session_not_open")
    if promotion_code:
        apply_code(sim, cs, promotion_code)
    meta = sim.store.m(cs["id"])
    items = [list(x) for x in meta["line_items"]]
    custom = needs_amount(sim, cs)
    if custom is not None:
        if amount is None:
            raise errors.invalid("Enter an amount.", "amount")
        cua = custom["custom_unit_amount"] or {}
        if (cua.get("minimum") and amount < cua["minimum"]) or (cua.get("maximum") and amount > cua["maximum"]):
            raise errors.invalid("The amount is outside the allowed range.", "amount")
        for it in items:
            if it[0] == custom["id"]:
                it[2] = amount
    sub_data = meta.get("subscription_data") or {}
    trial_days = as_int(sub_data, "trial_period_days")
    card_required = not (trial_days and cs["payment_method_collection"] == "if_required") or card_number.strip()
    behaviour = card_for_number(card_number)[1] if card_required else "none"
    if behaviour in _IMMEDIATE_DECLINES:
        raise errors.card_declined(behaviour, DECLINE_MESSAGES[behaviour])
    email = cs["customer_email"] or email or "reader@example.com"
    cus = sim.store.find(cs["customer"])
    if cus is None and (cs["mode"] == "subscription" or cs["customer_creation"] == "always"):
        cus = create_customer(sim, {"email": email, "name": name or ""})
        cs["customer"] = cus["id"]
    owner = cus["id"] if cus and cs["mode"] != "setup" else None  # setup attaches it once the SetupIntent succeeds
    pm = new_card_pm(sim, card_number, owner) if card_required else None
    coupons = redemptions(sim, cs)
    due = _set_amounts(sim, cs, items) if items else 0
    if cs["mode"] == "subscription":
        assert cus is not None
        trial_end = sim.now(cus.get("test_clock")) + trial_days * 86400 if trial_days else None
        missing = ((sub_data.get("trial_settings") or {}).get("end_behavior") or {}).get(
            "missing_payment_method") or "create_invoice"
        sub = create_subscription(
            sim, cus, [(sim.store.get(pid), qty, amt) for pid, qty, amt in items], pm_id=pm["id"] if pm else None,
            md=metadata(sub_data), trial_end=trial_end, missing_pm=missing,
            description=as_str(sub_data, "description"), coupons=coupons)
        cs["subscription"] = sub["id"]
        cs["invoice"] = sub["latest_invoice"]
        paid_amount = sim.store.get(sub["latest_invoice"])["amount_paid"]
        cs["payment_status"] = "paid" if paid_amount else "no_payment_required"
    elif cs["mode"] == "setup":
        from .setup_intents import setup_for_checkout

        assert pm is not None
        cs["setup_intent"] = setup_for_checkout(sim, cus, pm, meta.get("setup_intent_data") or {})["id"]
    elif due <= 0:  # a 100% coupon: nothing to charge, as Stripe completes such a session
        cs["payment_status"] = "no_payment_required"
        _redeem(coupons)
    else:
        pid = meta.get("payment_intent_data") or {}
        pi = create_pi(sim, amount=due, currency=cs["currency"], customer=cus["id"] if cus else None,
                       pm=pm["id"] if pm else None, description=as_str(pid, "description"), md=metadata(pid))
        _ch, ok = confirm_pi(sim, pi, pm["id"] if pm else None, off_session=False)
        cs["payment_intent"] = pi["id"]
        cs["payment_status"] = "paid" if ok else "unpaid"
        _redeem(coupons)
    cs["status"] = "complete"
    cs["customer_details"] = {"address": None, "business_name": None, "email": email, "individual_name": None,
                              "name": name, "phone": None, "tax_exempt": "none", "tax_ids": []}
    meta["line_items"] = items
    sim.emit("checkout.session.completed", cs)


def _redeem(coupons: list[discounts.Redeem]) -> None:
    """Payment mode makes no subscription discount, but the coupon (and code) is still used up once."""
    for r in coupons:
        r.coupon["times_redeemed"] = int(r.coupon["times_redeemed"]) + 1
        promotion_codes.redeem(r.promo)


def _line_item_objects(sim: Sim, cs: dict[str, Any]) -> dict[str, Any]:
    rows = []
    items = sim.store.m(cs["id"])["line_items"]
    cuts = _line_discounts(sim, cs, items)
    for i, (pid, qty, amount) in enumerate(items):
        price = sim.store.get(pid)
        unit = amount if amount is not None else (price["unit_amount"] or 0)
        rows.append({"id": f"li_{cs['id'][3:19]}{i:02d}", "object": "item", "adjustable_quantity": None,
                     "amount_discount": cuts[i], "amount_subtotal": unit * qty, "amount_tax": 0,
                     "amount_total": unit * qty - cuts[i], "currency": price["currency"],
                     "description": sim.store.get(price["product"])["name"], "metadata": {},
                     "price": dict(price), "quantity": qty})
    return list_object(rows, f"/v1/checkout/sessions/{cs['id']}/line_items")


INCLUDABLE[("checkout.session", "line_items")] = _line_item_objects


def expire(sim: Sim, cs: dict[str, Any]) -> None:
    cs["status"] = "expired"
    sim.emit("checkout.session.expired", cs)


def _on_expire(sim: Sim, cid: str, when: int) -> None:
    cs = sim.store.get(cid)
    if cs["status"] == "open" and int(cs["expires_at"]) <= when:
        expire(sim, cs)


DUE["cs_expire"] = _on_expire


@route("GET", "/v1/checkout/sessions/{id}")
def _get(sim: Sim, req: Request) -> dict[str, Any]:
    return sim.render(sim.store.get(req.args["id"], "checkout.session"))


@route("GET", "/v1/checkout/sessions/{id}/line_items")
def _get_items(sim: Sim, req: Request) -> dict[str, Any]:
    return _line_item_objects(sim, sim.store.get(req.args["id"], "checkout.session"))


@route("POST", "/v1/checkout/sessions/{id}/expire")
def _expire(sim: Sim, req: Request) -> dict[str, Any]:
    cs = sim.store.get(req.args["id"], "checkout.session")
    if cs["status"] != "open":
        raise errors.invalid(f"Only Checkout Sessions with a status in [\"open\"] can be expired; this one is "
                             f"{cs['status']}.")
    expire(sim, cs)
    return sim.render(cs)


@route("GET", "/v1/checkout/sessions")
def _list(sim: Sim, req: Request) -> dict[str, Any]:
    p = req.params
    filters = {k: as_str(p, k) for k in ("customer", "subscription", "payment_intent", "status")}
    return paginate(sim, p, "checkout.session", "/v1/checkout/sessions",
                    [_eq(k, v) if v else None for k, v in filters.items()])


def _eq(key: str, value: str | None) -> Callable[[dict[str, Any]], bool]:
    return lambda o: bool(o[key] == value)
