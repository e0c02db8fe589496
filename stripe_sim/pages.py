"""Hosted pages a person can click through, plus the ``/_sim`` control API.

Checkout: ``GET/POST /checkout/{cs_id}``; Payment Links: ``GET /b/{plink_id}`` (redirects to a new
session's Checkout page), ``GET /b/{plink_id}/complete``; portal: ``GET /portal/{bps_id}`` and
``POST /portal/{bps_id}/{cancel|payment_method|switch}``. Forms post plain
``application/x-www-form-urlencoded`` so tests can drive them with requests.
"""

from __future__ import annotations

import json
from html import escape
from typing import TYPE_CHECKING, Any

from .engine import RequestCtx
from .errors import StripeError
from .money import decimals, fmt, parse_major
from .resources import checkout, clocks, payment_links, portal, portal_configs

if TYPE_CHECKING:
    from .app import SimServer

Response = tuple[int, dict[str, str], bytes, str]
_CSS = ("body{font-family:system-ui,sans-serif;max-width:34rem;margin:2rem auto;color:#1a1f36}"
        "input,select,button{font-size:1rem;padding:.5rem;margin:.25rem 0;width:100%;box-sizing:border-box}"
        "button{background:#635bff;color:#fff;border:0;border-radius:4px;cursor:pointer}"
        ".err{color:#c0123c}.box{border:1px solid #e3e8ee;border-radius:6px;padding:1rem;margin:1rem 0}"
        "small{color:#697386}")


def _page(title: str, body: str, status: int = 200) -> Response:
    html = (f"<!doctype html><html><head><meta charset='utf-8'><title>{escape(title)}</title>"
            f"<style>{_CSS}</style></head><body><h1>{escape(title)}</h1>{body}"
            "<p><small>stripe_sim — test mode, no real money moves.</small></p></body></html>")
    return status, {}, html.encode(), "text/html; charset=utf-8"


def _json(data: Any, status: int = 200) -> Response:
    return status, {}, json.dumps(data).encode(), "application/json"


def _redirect(url: str | None, fallback: str) -> Response:
    return 303, {"Location": url or fallback}, b"", "text/plain"


def handle(app: SimServer, method: str, path: str, query: dict[str, Any], form: dict[str, Any]) -> Response:
    parts = [p for p in path.split("/") if p]
    sim = app.sim
    if parts[:1] == ["_sim"]:
        return _control(app, method, parts[1:], {**query, **form})
    with sim.store.lock:
        sim.ctx = RequestCtx()
        try:
            if len(parts) == 2 and parts[0] == "checkout":
                return _checkout(app, method, parts[1], form)
            if len(parts) in (2, 3) and parts[0] == "portal":
                return _portal(app, method, parts[1], parts[2] if len(parts) == 3 else None, form)
            if len(parts) in (2, 3) and parts[0] == "b":
                return _payment_link(app, parts[1], parts[2] if len(parts) == 3 else None)
            if len(parts) >= 2 and parts[0] == "invoice":
                inv = sim.store.get(parts[1], "invoice")
                return _page(f"Invoice {inv['number'] or inv['id']}",
                             f"<p>Status: {escape(inv['status'])}</p><p>Amount due: "
                             f"{escape(fmt(inv['amount_due'], inv['currency']))}</p>")
        except StripeError as err:
            sim.batch = None
            return _page("Something went wrong", f"<p class='err'>{escape(err.message)}</p>", err.status)
        finally:
            sim.settle()
    return _page("Not found", "<p>No such page.</p>", 404)


def _control(app: SimServer, method: str, parts: list[str], params: dict[str, Any]) -> Response:
    if parts == ["health"]:
        return _json({"ok": True, "now": app.now(), "url": app.url})
    if parts == ["clock"] and method == "GET":
        return _json({"now": app.now(), "offset": app.sim.offset})
    if parts == ["clock", "advance"] and method == "POST":
        seconds = int(params.get("seconds") or 0)
        clock_id = params.get("clock")
        if clock_id:
            with app.sim.store.lock:
                clock = app.sim.store.get(clock_id, "test_helpers.test_clock")
                clocks.advance(app.sim, clock, int(clock["frozen_time"]) + seconds)
                return _json({"clock": clock_id, "now": clock["frozen_time"]})
        return _json({"now": app.advance_clock(seconds)})
    if parts == ["deliveries"]:
        return _json({"deliveries": app.deliveries})
    if parts == ["webhooks", "wait"] and method == "POST":
        return _json({"idle": app.wait_for_deliveries(float(params.get("timeout") or 10))})
    return _json({"error": "unknown control endpoint"}, 404)


def _payment_link(app: SimServer, plink_id: str, action: str | None) -> Response:
    """``/b/{id}``: a fresh Checkout Session per visit; ``/b/{id}/complete``: the hosted confirmation."""
    sim = app.sim
    link = sim.store.get(plink_id, "payment_link")
    if action == "complete":
        msg = link["after_completion"].get("hosted_confirmation", {}).get("custom_message")
        return _page("Thanks for your payment", f"<p>{escape(msg or 'Your payment is complete.')}</p>")
    if action is not None:
        return _page("Not found", "<p>No such page.</p>", 404)
    cs = payment_links.open_session(sim, link)
    return _redirect(cs["url"], f"{app.url}/checkout/{cs['id']}")


def _checkout(app: SimServer, method: str, cs_id: str, form: dict[str, Any]) -> Response:
    sim = app.sim
    cs = sim.store.get(cs_id, "checkout.session")
    custom = checkout.needs_amount(sim, cs)
    if method == "POST":
        amount = None
        if custom is not None:
            amount = parse_major(str(form.get("amount", "")), custom["currency"])
        try:
            checkout.complete(sim, cs, str(form.get("card_number", "")), amount,
                              email=form.get("email") or None, name=form.get("name") or None,
                              promotion_code=str(form.get("promotion_code") or "").strip() or None)
        except StripeError as err:
            sim.batch = None
            return _checkout_form(app, cs, custom, err.message, err.status)
        url = (cs["success_url"] or "").replace("{CHECKOUT_SESSION_ID}", cs["id"])
        return _redirect(url, f"{app.url}/checkout/{cs['id']}")
    if cs["status"] == "complete":
        return _page("Payment complete", "<p>Thank you, this Checkout Session is complete.</p>")
    if cs["status"] == "expired":
        return _page("Session expired", "<p>This Checkout Session has expired.</p>", 410)
    return _checkout_form(app, cs, custom, None, 200)


def _checkout_form(app: SimServer, cs: dict[str, Any], custom: dict[str, Any] | None, error: str | None,
                   status: int) -> Response:
    sim = app.sim
    rows = []
    for pid, qty, amount in sim.store.m(cs["id"])["line_items"]:
        price = sim.store.get(pid)
        name = sim.store.get(price["product"])["name"]
        unit = amount if amount is not None else price["unit_amount"]
        per = f" / {price['recurring']['interval']}" if price["recurring"] else ""
        label = fmt(int(unit), price["currency"]) + per if unit is not None else "amount of your choice"
        rows.append(f"<li>{qty} × {escape(name)} — {escape(label)}</li>")
    verb = {"donate": "Donate", "book": "Book", "pay": "Pay"}.get(cs["submit_type"] or "", {
        "subscription": "Subscribe", "setup": "Save card"}.get(cs["mode"], "Pay"))
    amount_field = ""
    if custom is not None:
        step = "1" if decimals(custom["currency"]) == 0 else "0.01"
        amount_field = (f"<label>Amount ({escape(custom['currency'].upper())})<input name='amount' type='number' "
                        f"min='0' step='{step}' required></label>")
    email = "" if cs["customer_email"] or cs["customer"] else \
        "<label>Email<input name='email' type='email' value='reader@example.com'></label>"
    if cs["allow_promotion_codes"]:
        email += "<label>Promotion code<input name='promotion_code' autocomplete='off'></label>"
    err = f"<p class='err' role='alert'>{escape(error)}</p>" if error else ""
    body = (f"<div class='box'><ul>{''.join(rows)}</ul></div>{err}"
            f"<form method='post' action='/checkout/{escape(cs['id'])}'>{amount_field}{email}"
            "<label>Card number<input name='card_number' inputmode='numeric' autocomplete='cc-number' "
            "value='4242424242424242'></label><small>Test cards: 4242424242424242 succeeds, 4000000000009995 "
            "insufficient funds, 4000000000000341 fails at renewal, 4000000000000259 disputed, "
            "4000000000005126 refund fails.</small>"
            f"<button type='submit'>{escape(verb)}</button></form>")
    if cs["cancel_url"]:
        body += f"<p><a href='{escape(cs['cancel_url'])}'>Cancel</a></p>"
    return _page("Checkout (test mode)", body, status)


def _portal(app: SimServer, method: str, bps_id: str, action: str | None, form: dict[str, Any]) -> Response:
    sim = app.sim
    bps = sim.store.get(bps_id, "billing_portal.session")
    cus = sim.store.get(bps["customer"], "customer")
    back = bps["return_url"] or f"{app.url}/portal/{bps_id}"
    if method == "POST" and action:
        if action == "payment_method":
            portal_configs.feature(sim, bps["configuration"], "payment_method_update")
            portal.update_card(sim, cus, str(form.get("card_number", "")))
            return _redirect(back, back)
        sub = sim.store.get(str(form.get("subscription", "")), "subscription", "subscription")
        if sub["customer"] != cus["id"]:
            raise StripeError(404, "invalid_request_error", "No such subscription for this customer.")
        if action == "cancel":
            portal.cancel(sim, sub, portal_configs.feature(sim, bps["configuration"], "subscription_cancel")["mode"])
        elif action == "switch":
            upd = portal_configs.feature(sim, bps["configuration"], "subscription_update")
            portal.switch(sim, sub, str(form.get("price", "")),
                          str(form.get("proration_behavior") or upd["proration_behavior"]))
        else:
            raise StripeError(404, "invalid_request_error", f"Unknown portal action {action}.")
        return _redirect(back, back)
    return _portal_page(app, bps, cus)


def _portal_page(app: SimServer, bps: dict[str, Any], cus: dict[str, Any]) -> Response:
    sim = app.sim
    base = f"/portal/{escape(bps['id'])}"
    blocks = []
    for sub in portal.live_subs(sim, cus["id"]):
        si = sim.store.get(sim.store.m(sub["id"])["items"][0])
        price = sim.store.get(si["price"])
        name = sim.store.get(price["product"])["name"]
        amount = sim.store.m(sub["id"]).get("amounts", {}).get(si["id"], price["unit_amount"]) or 0
        note = " — cancels at period end" if sub["cancel_at_period_end"] else ""
        cur, pid = sub["currency"], price["id"]
        options = "".join(
            f"<option value='{escape(p['id'])}'>{escape(sim.store.get(p['product'])['name'])} "
            f"{escape(fmt(int(p['unit_amount']), p['currency']))} / {escape(p['recurring']['interval'])}</option>"
            for p in sim.store.iter_newest("price", lambda p: p["active"] and p["type"] == "recurring"
                                           and p["unit_amount"] is not None and p["currency"] == cur  # noqa: B023
                                           and p["id"] != pid))  # noqa: B023
        sid = escape(sub["id"])
        blocks.append(
            f"<div class='box'><b>{escape(name)}</b> {escape(fmt(int(amount), price['currency']))} / "
            f"{escape(price['recurring']['interval'])} — {escape(sub['status'])}{escape(note)}"
            f"<form method='post' action='{base}/cancel'><input type='hidden' name='subscription' value='{sid}'>"
            "<button>Cancel plan</button></form>"
            f"<form method='post' action='{base}/switch'><input type='hidden' name='subscription' value='{sid}'>"
            f"<select name='price'>{options}</select><button>Switch plan</button></form></div>")
    pm = sim.store.find(cus["invoice_settings"].get("default_payment_method"))
    card = f"{pm['card']['brand']} •••• {pm['card']['last4']}" if pm else "none"
    body = ("".join(blocks) or "<p>No subscriptions.</p>") + (
        f"<div class='box'>Card: {escape(card)}<form method='post' action='{base}/payment_method'>"
        "<label>New card number<input name='card_number' value='4242424242424242'></label>"
        "<button>Update card</button></form></div>")
    if bps["return_url"]:
        body += f"<p><a href='{escape(bps['return_url'])}'>Return</a></p>"
    return _page(f"Your subscriptions ({cus.get('email') or cus['id']})", body)
