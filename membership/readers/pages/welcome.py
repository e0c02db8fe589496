"""Where Stripe Checkout sends the reader back: `/welcome` after paying, and the pages
for an abandoned checkout and a failed payment.

`/welcome` reads the Checkout Session from Stripe (through the gateway), not our
rows: the reader usually arrives before the webhook, and Stripe already knows whether
the payment went through. Our local row only proves the session is one of ours (an
unknown id is a 404 and costs Stripe nothing), and says the membership is live once
the webhook has built the subscription, or that a delayed (bank) payment failed: then
the reader sees the failed-payment page, with what to do. The page shows no personal data: the session
id in the address is all a visitor needs to open it.
"""

from __future__ import annotations

from typing import Any

from flask import redirect, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from membership.billing.gateway.checkout import fetch_checkout_session
from membership.billing.models import CheckoutSession, CheckoutStatus, Plan, Price, Subscription
from membership.billing.processor import processor_errors
from membership.enums import SubscriptionStatus
from membership.extensions import db
from membership.i18n import named
from membership.readers.pages.blueprint import bp, message, page

LIVE = (SubscriptionStatus.ACTIVE, SubscriptionStatus.TRIALING)


def _state(status: str | None, payment_status: str | None) -> str:
    """What the reader should be told: paid, trial, processing, open (not finished) or expired."""
    if status == "complete":
        if payment_status == "paid":
            return "paid"
        if payment_status == "no_payment_required":
            return "trial"
        return "processing"
    return "expired" if status == "expired" else "open"


def _plan_name(row: CheckoutSession) -> str:
    if row.price_id is None:
        return ""
    name = db.session.scalar(select(Plan.name).join(Price, Price.plan_id == Plan.id).where(Price.id == row.price_id))
    return named(name)


def _live(subscription_id: str | None) -> bool:
    if not subscription_id:
        return False
    status = db.session.scalar(select(Subscription.status).where(
        Subscription.stripe_subscription_id == subscription_id))
    return status in LIVE


@bp.get("/welcome")
def welcome_page() -> Any:
    session_id = request.args.get("session_id", "").strip()
    row = db.session.scalar(select(CheckoutSession).where(CheckoutSession.stripe_session_id == session_id)) \
        if session_id.startswith("cs_") and len(session_id) < 256 else None
    if row is None:
        return message(_("We cannot find this payment"),
                       _("The link is incomplete or not one of ours. If you paid, your receipt is in your email."),
                       404, error=True, link="/account", link_text=_("Your account"))
    if row.status is CheckoutStatus.FAILED:  # the bank refused a delayed payment (webhook already in)
        return redirect(url_for(".checkout_failed"), 303)
    with processor_errors():
        session = fetch_checkout_session(session_id)
    state = _state(session.status, session.payment_status)
    return page("readers/welcome.html", state=state, plan=_plan_name(row), amount=session.amount_total,
                discount=session.amount_discount, currency=session.currency or row.currency,
                live=_live(session.subscription_id), resume_url=row.url if state == "open" else "")


@bp.get("/checkout/cancelled")
def checkout_cancelled() -> Any:
    back = request.args.get("from", "join")
    back = back if back in ("join", "donate", "gift") else "join"
    return page("readers/checkout_cancelled.html", back=f"/{back}")


@bp.get("/checkout/failed")
def checkout_failed() -> Any:
    return page("readers/checkout_failed.html")
