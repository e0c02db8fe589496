"""What support (and admins) do to a member from the console, each through the same
services the API and the reader use: Stripe first, then the webhook brings the facts
back (a refund is never posted to the ledger here: charge.refunded does that).

A repeated submit must not repeat the act: every form carries a random `request_id`
minted when the page was drawn, and the Stripe calls' idempotency keys are built from it
(a double click sends the same key twice; Stripe refunds once). Audit entries come
from the staff audit hook (membership/staff/audit.py) for every POST; the services add
their own richer entries where they already do (comps, erasure).
"""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import InvalidOperation

from membership.billing import comps
from membership.billing.gateway import refunds as remote_refunds
from membership.billing.gateway import schedules
from membership.billing.gateway import subscriptions as remote_subscriptions
from membership.billing.gateway.reversals import Refund
from membership.billing.models import ComplimentaryMembership, Payment, Subscription
from membership.billing.processor import processor_errors
from membership.billing.subscriptions import sync_subscription
from membership.db import utcnow
from membership.enums import TERMINAL_SUBSCRIPTION_STATUSES
from membership.errors import Conflict, InvalidInput, NotFound
from membership.extensions import db
from membership.identity.links import send_sign_in_link
from membership.identity.models import Reader
from membership.mail.notices import record_notice
from membership.money import MoneyError, format_money, to_minor
from membership.readers import privacy
from membership.staff.models import AuditLog, StaffUser

REQUEST_ID = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
REFUND_REASONS = {"": None, "requested_by_customer": "requested_by_customer", "duplicate": "duplicate",
                  "fraudulent": "fraudulent"}
MAX_EXTEND_DAYS = 366


def request_id(raw: str | None) -> str:
    if not raw or not REQUEST_ID.match(raw):
        raise InvalidInput("The form is missing its request id: reload the page and submit again.")
    return raw


def payment_of(reader: Reader, payment_id: int) -> Payment:
    payment = db.session.get(Payment, payment_id)
    if payment is None or payment.reader_id != reader.id:
        raise NotFound(f"Reader {reader.id} has no payment {payment_id}.")
    return payment


def subscription_of(reader: Reader, subscription_id: int) -> Subscription:
    sub = db.session.get(Subscription, subscription_id)
    if sub is None or sub.reader_id != reader.id:
        raise NotFound(f"Reader {reader.id} has no subscription {subscription_id}.")
    return sub


def refund_amount(text: str, payment: Payment, refundable_minor: int) -> int | None:
    """The amount asked (in the payment's currency, e.g. 4.50); None for "all that is left"."""
    text = text.strip().replace(",", ".")
    if not text:
        return None
    try:
        minor = to_minor(text, payment.currency)
    except (MoneyError, InvalidOperation, ValueError, OverflowError) as exc:
        raise InvalidInput(f"Write the amount as a number in {payment.currency}, such as 4.50.") from exc
    if minor <= 0:
        raise InvalidInput("The amount to refund must be more than zero.")
    if minor > refundable_minor:
        raise InvalidInput(f"At most {format_money(refundable_minor, payment.currency)} of this payment is left "
                           "to refund.")
    return minor


def refund(staff: StaffUser, payment: Payment, amount_minor: int | None, reason: str, req: str) -> Refund:
    """Ask Stripe for the refund (idempotent per form); the ledger follows from the webhook."""
    if reason not in REFUND_REASONS:
        raise InvalidInput("Choose a reason from the list.")
    with processor_errors():
        return remote_refunds.refund_charge(
            payment.stripe_charge_id, amount_minor, reason=REFUND_REASONS[reason],
            metadata={"staff": staff.email, "source": "console"},
            idempotency_key=f"console-refund:{payment.id}:{req}")


def cancel(staff: StaffUser, sub: Subscription, when: str, req: str) -> Subscription:
    """`now`: ended at once; `period_end`: no renewal after the current period."""
    if sub.status in TERMINAL_SUBSCRIPTION_STATUSES:
        raise Conflict("This subscription has already ended.")
    comment = f"cancelled by staff ({staff.email})"
    with processor_errors():
        if when == "now":
            remote_refunds.cancel_now(sub.stripe_subscription_id, comment=comment,
                                      idempotency_key=f"console-cancel:{sub.stripe_subscription_id}:{req}")
        elif when == "period_end":
            schedules.release_schedule(sub.stripe_subscription_id)
            remote_subscriptions.cancel_at_period_end(sub.stripe_subscription_id, None, comment)
        else:
            raise InvalidInput("Choose when the subscription ends: now or at the end of the period.")
    synced = sync_subscription(sub.stripe_subscription_id)
    return synced or sub


def grant_comp(staff: StaffUser, reader: Reader, plan_code: str, days_text: str, reason: str) -> ComplimentaryMembership:
    days = _days(days_text, comps.MAX_COMP_DAYS)
    return comps.grant_comp(staff, reader.id, plan_code, utcnow() + timedelta(days=days), reason.strip()[:500])


def extend_comp(staff: StaffUser, reader: Reader, comp_id: int, days_text: str) -> ComplimentaryMembership:
    comp = db.session.get(ComplimentaryMembership, comp_id)
    if comp is None or comp.reader_id != reader.id:
        raise NotFound(f"Reader {reader.id} has no complimentary membership {comp_id}.")
    if comp.revoked_at is not None:
        raise Conflict("This complimentary membership was revoked; grant a new one instead.")
    days = _days(days_text, MAX_EXTEND_DAYS)
    before = comp.expires_at
    comp.expires_at = max(comp.expires_at, utcnow()) + timedelta(days=days)
    db.session.add(AuditLog(actor=staff.email, action="comp.extend", target_type="complimentary_membership",
                            target_id=str(comp.id), details={"reader_id": reader.id, "days": days,
                                                             "from": before.isoformat(),
                                                             "to": comp.expires_at.isoformat()}))
    db.session.flush()
    return comp


def _days(text: str, most: int) -> int:
    try:
        days = int(text.strip())
    except ValueError as exc:
        raise InvalidInput("Give the number of days as a whole number, such as 30.") from exc
    if not 1 <= days <= most:
        raise InvalidInput(f"Give between 1 and {most} days.")
    return days


def resend_receipt(reader: Reader, payment: Payment, req: str) -> None:
    """A new receipt notice (its own dedupe key per form), mailed after the commit."""
    if reader.deleted_at is not None:
        raise Conflict("This reader's data was erased: there is no address to send to.")
    record_notice("payment_receipt", f"{payment.stripe_charge_id}:resend:{req}", reader.email,
                  {"payment_id": payment.id}, reader_id=reader.id)


def resend_sign_in_link(reader: Reader) -> None:
    if reader.deleted_at is not None:
        raise Conflict("This reader's data was erased: there is no address to send to.")
    send_sign_in_link(reader)


def erase(staff: StaffUser, reader: Reader, typed_email: str) -> None:
    """Admins only (the route's permission); the admin types the address to confirm."""
    if reader.deleted_at is not None:
        raise Conflict("This reader's data was already erased.")
    if typed_email.strip().lower() != reader.email:
        raise InvalidInput("Type the reader's email address exactly to confirm the erasure.")
    privacy.erase(reader, actor=staff.email)
