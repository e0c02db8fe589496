"""Where facts change, an outbox event: captured from the rows that record the facts.

Why at the flush and not by a call in each service: the same fact is written from
several places (an opt-in is confirmed by newsletters' confirm, by the reader's sign-up
confirmation and by the preferences page; a subscription by webhooks, resyncs and
self-service), and lower layers may not import this package. Reading the change off the
rows at flush time catches every writer, present and future, and the event lands in
the same transaction as the fact: rolled back together, committed together.

How: `after_flush` reads each changed row's attribute history (ids are assigned by
then), turns it into (type, reader id, data), and `after_flush_postexec` adds the
outbox rows, which the next flush (at the latest the commit's) writes. Event data holds
ids and non-personal facts only; delivery adds the reader's email and name for
endpoints whose scope allows them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from membership.billing.models import Payment, Refund, Subscription
from membership.enums import Stream, SubscriptionStatus
from membership.identity.models import Reader
from membership.integrations.entitlements import tier_of_subscription
from membership.integrations.outbox import emit, forget_endpoints
from membership.newsletters.models import Newsletter, NewsletterSubscription, OptInStatus

Fact = tuple[str, int, dict[str, Any]]
_FACTS = "membership.integrations.facts"
_LIVE = {SubscriptionStatus.TRIALING, SubscriptionStatus.ACTIVE, SubscriptionStatus.PAST_DUE,
         SubscriptionStatus.UNPAID, SubscriptionStatus.PAUSED}
_ENDED = {SubscriptionStatus.CANCELED, SubscriptionStatus.INCOMPLETE_EXPIRED}
_SUB_FIELDS = ("status", "price_id", "quantity", "unit_amount_minor", "interval", "cancel_at_period_end", "paused")
_DONATIONS = {Stream.ONE_TIME_DONATION, Stream.RECURRING_DONATION}


def _change(obj: Any, attr: str) -> tuple[Any, Any, bool]:
    """(before, after, changed) for one attribute in this flush; before is None for a new row."""
    history = inspect(obj).attrs[attr].history
    if not history.has_changes():
        value = getattr(obj, attr)
        return value, value, False
    before = history.deleted[0] if history.deleted else None
    after = history.added[0] if history.added else None
    return before, after, before != after


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _value(value: Any) -> Any:
    return value.value if hasattr(value, "value") else _iso(value) if isinstance(value, datetime) else value


def _reader(obj: Reader, new: bool) -> Iterator[Fact]:
    _, verified, verified_now = _change(obj, "email_verified_at")
    _, deleted, deleted_now = _change(obj, "deleted_at")
    if deleted_now and deleted is not None:
        yield "member.deleted", obj.id, {"member": {"id": obj.id}}
    elif verified_now and verified is not None:
        yield "member.created", obj.id, {"member": {"id": obj.id}}
    elif obj.email_verified_at is not None and obj.deleted_at is None and not new:
        changed = [a for a in ("email", "name") if _change(obj, a)[2]]
        if changed:
            yield "member.updated", obj.id, {"member": {"id": obj.id}, "changed": changed}


def subscription_data(sub: Subscription) -> dict[str, Any]:
    return {"id": sub.id, "status": sub.status.value, "stream": sub.stream.value, "tier": tier_of_subscription(sub),
            "amount_minor": sub.unit_amount_minor * sub.quantity, "currency": sub.currency,
            "interval": sub.interval.value, "cancel_at_period_end": sub.cancel_at_period_end,
            "current_period_end": _iso(sub.current_period_end)}


def _subscription(obj: Subscription, new: bool) -> Iterator[Fact]:
    was, now, _ = _change(obj, "status")
    previous = {a: _value(before) for a in _SUB_FIELDS for before, _, changed in [_change(obj, a)] if changed}
    data = {"member": {"id": obj.reader_id}, "subscription": subscription_data(obj)}
    if now in _LIVE and (new or was not in _LIVE):
        yield "subscription.started", obj.reader_id, data
    elif now in _ENDED and was in _LIVE:
        yield "subscription.canceled", obj.reader_id, data
    elif now in _LIVE and previous and not new:
        yield "subscription.changed", obj.reader_id, {**data, "previous": previous}


def payment_data(payment: Payment) -> dict[str, Any]:
    return {"id": payment.id, "amount_minor": payment.gross_minor, "currency": payment.currency,
            "stream": payment.stream.value if payment.stream else None, "paid_at": _iso(payment.paid_at),
            "subscription_id": payment.subscription_id}


def _payment(obj: Payment, new: bool) -> Iterator[Fact]:
    if not new or obj.reader_id is None:
        return
    data = {"member": {"id": obj.reader_id}, "payment": payment_data(obj)}
    yield "payment.succeeded", obj.reader_id, data
    if obj.stream in _DONATIONS:
        yield "donation.received", obj.reader_id, {
            "member": {"id": obj.reader_id},
            "donation": {"payment_id": obj.id, "amount_minor": obj.gross_minor, "currency": obj.currency,
                         "recurring": obj.stream == Stream.RECURRING_DONATION, "paid_at": _iso(obj.paid_at)}}


def _refund(obj: Refund, new: bool) -> Iterator[Fact]:
    _, status, changed = _change(obj, "status")
    if not (changed and status == "succeeded"):
        return
    payment = inspect(obj).session.get(Payment, obj.payment_id)  # type: ignore[union-attr]
    if payment is None or payment.reader_id is None:
        return
    yield "payment.refunded", payment.reader_id, {
        "member": {"id": payment.reader_id}, "payment": payment_data(payment),
        "refund": {"id": obj.id, "amount_minor": obj.amount_minor, "currency": obj.currency}}


def _opt_in(obj: NewsletterSubscription, new: bool) -> Iterator[Fact]:
    was, now, changed = _change(obj, "status")
    if not changed:
        return
    newsletter = inspect(obj).session.get(Newsletter, obj.newsletter_id)  # type: ignore[union-attr]
    data = {"member": {"id": obj.reader_id},
            "newsletter": {"id": obj.newsletter_id, "slug": newsletter.slug if newsletter else None}}
    if now == OptInStatus.CONFIRMED:
        yield "newsletter.subscribed", obj.reader_id, data
    elif now == OptInStatus.UNSUBSCRIBED and was == OptInStatus.CONFIRMED:
        yield "newsletter.unsubscribed", obj.reader_id, data


_HANDLERS: dict[type, Callable[[Any, bool], Iterator[Fact]]] = {
    Reader: _reader, Subscription: _subscription, Payment: _payment, Refund: _refund, NewsletterSubscription: _opt_in,
}


def _collect(session: Session, flush_context: Any) -> None:
    facts: list[Fact] = session.info.setdefault(_FACTS, [])
    changed = [(obj, True) for obj in session.new] + [(obj, False) for obj in session.dirty]
    for obj, new in sorted(changed, key=lambda pair: (type(pair[0]).__name__, getattr(pair[0], "id", 0) or 0)):
        handler = _HANDLERS.get(type(obj))
        if handler is not None and (new or session.is_modified(obj)):
            facts.extend(handler(obj, new))


def _emit(session: Session, flush_context: Any) -> None:
    for type_, reader_id, data in session.info.pop(_FACTS, []):
        emit(session, type_, reader_id, data)


def _forget(session: Session, *args: Any) -> None:
    session.info.pop(_FACTS, None)
    forget_endpoints(session)


def _transaction_over(session: Session) -> None:
    forget_endpoints(session)


def _keep_old_value(target: Any, value: Any, old: Any, initiator: Any) -> Any:
    return value


_TRACKED = [getattr(Reader, a) for a in ("email_verified_at", "deleted_at", "email", "name")] + \
    [getattr(Subscription, a) for a in _SUB_FIELDS] + [Refund.status, NewsletterSubscription.status]


def install() -> None:
    """Listen on every session (idempotent: create_app may run more than once in a process).

    The tracked attributes get active history: setting one on a row whose values were
    expired by a commit loads the old value first, so "was" is known (a status set
    after a commit would otherwise look like it came from nothing)."""
    for name, fn in (("after_flush", _collect), ("after_flush_postexec", _emit), ("after_rollback", _forget),
                     ("after_commit", _transaction_over)):
        if not event.contains(Session, name, fn):
            event.listen(Session, name, fn)
    for attribute in _TRACKED:
        if not event.contains(attribute, "set", _keep_old_value):
            event.listen(attribute, "set", _keep_old_value, active_history=True, retval=True)
