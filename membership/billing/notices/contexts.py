"""Template variables of billing's notice kinds, loaded from the ids a notice's context
carries (registered with mail through `mail.kinds.loader`).

Notices store ids and small values (COMMON.md's table); the copy is built from the
database at send time, so a receipt shows the payment as recorded, not as guessed
when the webhook ran. Loaders give facts (names, flags, codes, amounts and dates formatted
for the mail's language); the words around them are the mail templates', so they are
translated in one catalog (membership/mail/translations).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from membership.billing.giving import tax_statement
from membership.billing.models import CheckoutSession, GiftMembership, Payment, Plan, Price, Subscription
from membership.config import Settings
from membership.enums import Interval, Stream
from membership.errors import NotFound
from membership.extensions import db
from membership.i18n import day
from membership.i18n import money as format_money
from membership.mail.kinds import loader


def local_date(value: datetime | int | float | str | None, settings: Settings) -> str:
    """A date as the reader reads it, in the outlet's time zone and the language the mail
    is rendered in (mail renders inside `i18n.in_language`): 'March 5, 2027'."""
    if value is None or value == "":
        return ""
    if isinstance(value, int | float) or (isinstance(value, str) and value.isdigit()):
        value = datetime.fromtimestamp(int(value), UTC)
    elif isinstance(value, str):
        value = datetime.fromisoformat(value)
    local = value.astimezone(ZoneInfo(settings.outlet_timezone))
    return day(local.date())


def _get(model: Any, ident: Any) -> Any:
    row = db.session.get(model, int(ident)) if ident is not None else None
    if row is None:
        raise NotFound(f"{model.__name__} {ident} not found")
    return row


def _interval_text(interval: str, count: int) -> str:
    """English only (logs, staff): mail words the interval from `interval_unit`/`interval_count`."""
    if interval == Interval.ONE_TIME:
        return "once"
    return interval if count == 1 else f"{count} {interval}s"


@loader("renewal_notice", "trial_ending", "trial_will_end", "annual_reminder",
        "cancellation_confirmation", "payment_failed", "card_expiring", "price_change")
def subscription_vars(ctx: dict[str, Any], settings: Settings) -> dict[str, Any]:
    """Plan, amount and dates of the subscription the notice is about."""
    sub: Subscription = _get(Subscription, ctx.get("subscription_id"))
    price = db.session.get(Price, sub.price_id) if sub.price_id else None
    plan = db.session.get(Plan, price.plan_id) if price else None
    amount = sub.unit_amount_minor * sub.quantity
    out = {
        "plan_name": plan.name if plan else None,  # None: mail names it generically
        "amount": format_money(amount, sub.currency),
        "interval": _interval_text(sub.interval, sub.interval_count),
        "interval_unit": Interval(sub.interval).value,
        "interval_count": sub.interval_count or 1,
        "is_donation": sub.stream == Stream.RECURRING_DONATION,
        "period_end": local_date(sub.current_period_end, settings),
        "trial_end": local_date(sub.trial_end, settings),
        "ends_on": local_date(_access_ends(sub), settings),
        "ended": sub.ended_at is not None,
        "signed_up_on": local_date(sub.stripe_created_at, settings),
    }
    return out | _extra_vars(ctx, settings, sub.currency)


def _access_ends(sub: Subscription) -> datetime | None:
    """When access stops: already (ended_at), at a set cancel date, or at the period's end."""
    return sub.ended_at or sub.cancel_at or sub.current_period_end


def _extra_vars(ctx: dict[str, Any], settings: Settings, currency: str) -> dict[str, Any]:
    """Values the recorder put in the context (failed payments, card and price changes)."""
    out: dict[str, Any] = {}
    if "amount_minor" in ctx:
        out["amount_due"] = format_money(int(ctx["amount_minor"]), ctx.get("currency") or currency)
    if "attempt_count" in ctx:
        out["attempt_count"] = int(ctx["attempt_count"] or 1)
        out["next_attempt"] = local_date(ctx.get("next_payment_attempt"), settings)
    if "new_amount_minor" in ctx:
        out["old_amount"] = format_money(int(ctx["old_amount_minor"]), currency)
        out["new_amount"] = format_money(int(ctx["new_amount_minor"]), currency)
        out["effective_on"] = local_date(ctx.get("effective_at"), settings)
    for key in ("brand", "last4", "exp_month", "exp_year"):
        if key in ctx:
            out[key] = ctx[key]
    return out


@loader("payment_receipt")
def receipt_vars(ctx: dict[str, Any], settings: Settings) -> dict[str, Any]:
    """The payment as recorded, and what the outlet's fiscal status lets it say about taxes."""
    pay: Payment = _get(Payment, ctx.get("payment_id"))
    return {
        "paid": format_money(pay.gross_minor, pay.currency),
        "paid_on": local_date(pay.paid_at, settings),
        "is_donation": pay.stream in (Stream.ONE_TIME_DONATION, Stream.RECURRING_DONATION),
        "reference": pay.stripe_charge_id,
        "tax": tax_statement(settings, pay.gross_minor, pay.benefit_value_minor, pay.currency),
    }


@loader("checkout_payment_failed")
def checkout_failure_vars(ctx: dict[str, Any], settings: Settings) -> dict[str, Any]:
    """What the reader tried to pay for at Checkout: our checkout row's plan when we made
    the session, else 'your donation' / 'your payment' (the amount is Stripe's)."""
    plan_name = ""
    local = db.session.get(CheckoutSession, int(ctx["checkout_session_id"])) if ctx.get("checkout_session_id") else None
    if local is not None and local.price_id is not None:
        price = db.session.get(Price, local.price_id)
        plan = db.session.get(Plan, price.plan_id) if price else None
        plan_name = plan.name if plan else ""
    is_donation = bool(ctx.get("donation"))
    return {
        "amount": format_money(int(ctx.get("amount_minor") or 0), str(ctx.get("currency") or "usd")),
        "plan_name": plan_name,
        "is_donation": is_donation,
    }


@loader("year_end_statement")
def statement_vars(ctx: dict[str, Any], settings: Settings) -> dict[str, Any]:
    """One year's payments in one currency, with totals as the scheduler computed them."""
    from membership.billing.giving import counted_payments, year_bounds

    currency, year = str(ctx["currency"]), int(ctx["year"])
    counted = counted_payments(*year_bounds(year, settings))
    rows = db.session.execute(
        select(counted.c.paid_at, counted.c.net, counted.c.benefit, counted.c.stream)
        .where(counted.c.reader_id == int(ctx["reader_id"]), counted.c.currency == currency)
        .order_by(counted.c.paid_at, counted.c.id)
    ).all()
    lines = [{"date": local_date(paid_at, settings), "amount": format_money(int(net), currency),
              "benefit": format_money(int(benefit), currency), "stream": Stream(stream).value}
             for paid_at, net, benefit, stream in rows]
    total, benefit = int(ctx["total_minor"]), int(ctx["benefit_minor"])
    return {"year": year, "currency": currency, "lines": lines,
            "tax": tax_statement(settings, total, benefit, currency)}


@loader("gift_delivered")
def gift_vars(ctx: dict[str, Any], settings: Settings) -> dict[str, Any]:
    """The code goes to the purchaser, who passes it on (billing/gifts.py); the copy
    also reads right if a notice is ever addressed to the recipient."""
    gift: GiftMembership = _get(GiftMembership, ctx.get("gift_id"))
    plan = db.session.get(Plan, gift.plan_id)
    from membership.identity.models import Reader

    giver = db.session.get(Reader, gift.purchaser_reader_id)
    return {
        "code": ctx.get("code", ""),
        "recipient_name": gift.recipient_name,
        "giver_name": (giver.name or "") if giver else "",
        "gift_message": gift.message or "",
        "plan_name": plan.name if plan else None,
        "months": gift.months,
        "recipient_email": gift.recipient_email.lower(),
        "redeem_url": ctx.get("link") or f"{settings.public_url.rstrip('/')}/account",
    }



@loader("tribute_notice")
def tribute_vars(ctx: dict[str, Any], settings: Settings) -> dict[str, Any]:
    """The note to the person a donor named (billing/tributes.py): whom the gift honours
    or remembers, the donor's name unless anonymous, the note; never the amount. The
    greeting is to that person, not to the donor whose notice row it is."""
    from membership.billing.models import Donation, TributeKind
    from membership.identity.models import Reader

    donation: Donation = _get(Donation, ctx.get("donation_id"))
    donor = db.session.get(Reader, donation.reader_id)
    return {
        "reader_name": str(ctx.get("name") or ""),
        "donor_name": "" if donation.anonymous or donor is None else donor.name,
        "honoree": donation.honoree_name or "",
        "in_memory": donation.tribute_kind is TributeKind.MEMORY,
        "note": donation.message or "",
    }
