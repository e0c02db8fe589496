"""Beat-driven finders: which renewal-law notices are due now, recorded once each.

Each finder selects the subscriptions whose event (renewal, trial end, anniversary)
is close enough that the policy table's send offset has arrived, and records a notice
under a deterministic dedupe key; running twice (or beside a webhook that recorded the
same renewal notice) creates nothing new. Work is read in keyset chunks, so a run's
memory stays flat however many subscriptions there are. The sweeper re-enqueues due
rows whose task was lost (broker outage, crashed worker), so rows are the truth.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Row, Select, and_, extract, func, or_, select, tuple_, update

from membership.billing.models import Price, Subscription
from membership.billing.notices.policy import POLICIES
from membership.billing.notices.relevance import LIVE
from membership.billing.price_change_records import Change, pending
from membership.db import utcnow
from membership.enums import Interval, SubscriptionStatus
from membership.errors import Conflict, InvalidInput, NotFound
from membership.extensions import db
from membership.identity.models import Reader
from membership.mail.models import Notice, NoticeStatus
from membership.mail.notices import enqueue_send, record_notice
from membership.money import format_money

CHUNK = 500
SWEEP_GRACE = timedelta(minutes=5)  # the normal after-commit enqueue gets this long first
SWEEP_BACKOFF = timedelta(minutes=15)


@dataclass(frozen=True)
class Candidate:
    dedupe_key: str
    email: str
    reader_id: int
    context: dict[str, Any]
    due_at: datetime
    window_closes_at: datetime | None


def record_missing(kind: str, candidates: Sequence[Candidate]) -> int:
    """Record the candidates that have no notice yet (one existence query per chunk)."""
    if not candidates:
        return 0
    keys = [c.dedupe_key for c in candidates]
    existing = set(db.session.scalars(select(Notice.dedupe_key).where(Notice.kind == kind,
                                                                      Notice.dedupe_key.in_(keys))))
    created = 0
    for c in candidates:
        if c.dedupe_key not in existing:
            _, new = record_notice(kind, c.dedupe_key, c.email, c.context, reader_id=c.reader_id,
                                   due_at=c.due_at, window_closes_at=c.window_closes_at)
            created += int(new)
        elif c.window_closes_at is not None:
            _backfill_window(kind, c.dedupe_key, c.window_closes_at)
    return created


def _backfill_window(kind: str, dedupe_key: str, closes: datetime) -> None:
    """A webhook may record the same notice first without its legal window (invoice.upcoming
    knows no policy); the finder adds it so the staff alert can still watch the row."""
    db.session.execute(
        update(Notice).where(Notice.kind == kind, Notice.dedupe_key == dedupe_key,
                             Notice.window_closes_at.is_(None)).values(window_closes_at=closes)
        .execution_options(synchronize_session=False)
    )


def auto_renewing(*conditions: Any) -> Select[Subscription, str]:
    """Live subscriptions that will renew (not cancelling, not paused), with the email."""
    return (
        select(Subscription, Reader.email)
        .join(Reader, Reader.id == Subscription.reader_id)
        .where(Subscription.status.in_(LIVE), Subscription.cancel_at_period_end.is_(False),
               Subscription.cancel_at.is_(None), Subscription.paused.is_(False),
               Reader.deleted_at.is_(None), *conditions)
    )


def chunks(stmt: Select[Subscription, str], size: int = CHUNK) -> Iterator[Sequence[Row[Subscription, str]]]:
    """Keyset pages by subscription id, so memory stays flat on any table size."""
    last = 0
    while True:
        rows = db.session.execute(stmt.where(Subscription.id > last).order_by(Subscription.id).limit(size)).all()
        if not rows:
            return
        yield rows
        last = rows[-1][0].id


def _unix(value: datetime) -> int:
    return int(value.timestamp())


def find_renewal_notices(now: datetime) -> int:
    """Terms of a year or more whose renewal is within the send offset (30 days)."""
    policy = POLICIES["renewal_notice"]
    annual = or_(Subscription.interval == Interval.YEAR,
                 and_(Subscription.interval == Interval.MONTH, Subscription.interval_count >= 12))
    stmt = auto_renewing(annual, Subscription.current_period_end > now,
                         Subscription.current_period_end <= now + policy.offset)
    created = 0
    for rows in chunks(stmt):
        created += record_missing(policy.kind, [
            Candidate(f"{sub.stripe_subscription_id}:{_unix(end)}", email, sub.reader_id,
                      {"subscription_id": sub.id}, policy.due_at(end), policy.window_closes_at(end))
            for sub, email in rows if (end := sub.current_period_end) is not None])
    return created


def find_trial_endings(now: datetime) -> int:
    """Trials ending within the send offset (7 days)."""
    policy = POLICIES["trial_ending"]
    stmt = auto_renewing(Subscription.status == SubscriptionStatus.TRIALING, Subscription.trial_end > now,
                         Subscription.trial_end <= now + policy.offset)
    created = 0
    for rows in chunks(stmt):
        created += record_missing(policy.kind, [
            Candidate(f"{sub.stripe_subscription_id}:{_unix(end)}", email, sub.reader_id,
                      {"subscription_id": sub.id}, policy.due_at(end), policy.window_closes_at(end))
            for sub, email in rows if (end := sub.trial_end) is not None])
    return created


def _same_day_next_year(when: datetime, year: int) -> datetime:
    try:
        return when.replace(year=year)
    except ValueError:  # 29 February in a common year
        return when.replace(year=year, day=28)


def next_anniversary(signup: datetime, now: datetime) -> datetime:
    """The first signup anniversary after `now` (never the signup day itself)."""
    for year in (now.year, now.year + 1):
        candidate = _same_day_next_year(signup, year)
        if candidate > now and candidate.year > signup.year:
            return candidate
    return _same_day_next_year(signup, now.year + 1)


def _month_days(start: date, days: int) -> set[tuple[int, int]]:
    out = set()
    for i in range(days + 1):
        d = start + timedelta(days=i)
        out.add((d.month, d.day))
        if (d.month, d.day) == (2, 28) and (d + timedelta(days=1)).month == 3:
            out.add((2, 29))  # leap-day signups celebrate on 28 February
    return out


def find_annual_reminders(now: datetime) -> int:
    """Auto-renewing plans shorter than a year, on the signup anniversary's send offset.

    Terms of a year or more are left out: their renewal notice is their yearly notice.
    """
    policy = POLICIES["annual_reminder"]
    pairs = _month_days(now.date(), policy.offset.days + 1)
    stmt = auto_renewing(
        Subscription.interval == Interval.MONTH, Subscription.interval_count < 12,
        Subscription.stripe_created_at <= now - timedelta(days=300),
        tuple_(extract("month", Subscription.stripe_created_at), extract("day", Subscription.stripe_created_at))
        .in_(sorted(pairs)),
    )
    created = 0
    for rows in chunks(stmt):
        batch: list[Candidate] = []
        for sub, email in rows:
            event = next_anniversary(sub.stripe_created_at, now)
            if policy.due_at(event) <= now < event:
                batch.append(Candidate(f"{sub.stripe_subscription_id}:{event.year}", email, sub.reader_id,
                                       {"subscription_id": sub.id, "anniversary": _unix(event)},
                                       policy.due_at(event), policy.window_closes_at(event)))
        created += record_missing(policy.kind, batch)
    return created


class PriceChangeTooSoon(InvalidInput):
    """The legal minimum notice can no longer be met; `earliest` is the first moment the
    new price may apply (the console turns it into a date in the outlet's zone)."""

    def __init__(self, earliest: datetime, days: int) -> None:
        super().__init__(f"readers must be told at least {days} days before a price change: "
                         f"the earliest it can apply is {earliest:%d %B %Y %H:%M} UTC")
        self.earliest = earliest


def check_price_change(price_id: int, new_amount_minor: int, effective_at: datetime, now: datetime) -> Price:
    """The price, or the reason this change cannot be announced (nothing is written)."""
    policy = POLICIES["price_change"]
    price = db.session.get(Price, price_id)
    if price is None:
        raise NotFound(f"price {price_id} not found")
    if effective_at.tzinfo is None:
        raise InvalidInput("effective_at needs a time zone")
    if price.amount_minor is None or new_amount_minor <= 0 or new_amount_minor == price.amount_minor:
        raise InvalidInput("a price change needs a fixed price and a new, positive amount")
    if now > policy.window_closes_at(effective_at):
        raise PriceChangeTooSoon(now + policy.legal_min, policy.legal_min.days)
    refuse_beside_pending(price, Change(effective_at, price.id, new_amount_minor), now)
    return price


class PriceChangePending(Conflict):
    """Another change of the same plan, currency and interval is announced and not applied."""

    title = "A price change is already pending"


def refuse_beside_pending(price: Price, change: Change, now: datetime) -> None:
    """One pending change per plan, currency and interval: a second one is refused (409),
    not allowed to supersede the first.

    Superseding would make notices already sent untrue (readers were told one amount on
    one date) and the law wants a fresh notice inside the window for the other; readers
    could end up told twice, with the wrong one applied, or moved without valid notice.
    Refusing keeps every notice that went out true: staff wait until the pending change
    applies, then change the new price. The same change announced again (a double click,
    the CLI after the console) is not a second change and passes.
    """
    for other in pending(price, now):
        if other.key == change.key:
            continue
        old = db.session.get(Price, other.price_id)
        currency = old.currency if old else price.currency
        amount = format_money(old.amount_minor or 0, currency) if old and old.amount_minor is not None else "?"
        raise PriceChangePending(
            f"A change of this price is already pending: {amount} becomes "
            f"{format_money(other.new_amount_minor, currency)} on {other.effective_at:%d %B %Y} "
            f"(price {other.price_id}; readers have been or are being told). Announce another change "
            "after that one has applied.")


def price_change_audience(price: Price) -> Select[Subscription, str]:
    """Who is told: every auto-renewing subscription on the price."""
    return auto_renewing(Subscription.price_id == price.id)


def price_change_candidates(price: Price, new_amount_minor: int, effective_at: datetime, now: datetime,
                            size: int = CHUNK) -> Iterator[list[tuple[Subscription, Candidate]]]:
    """Each subscriber's notice as it will be recorded (kind price_change), chunk by chunk:
    the one definition the scheduler records and the console's preview shows."""
    policy = POLICIES["price_change"]
    change = Change(effective_at, price.id, new_amount_minor)
    for rows in chunks(price_change_audience(price), size):
        yield [(sub, Candidate(
            f"{sub.stripe_subscription_id}:{change.key}", email,
            sub.reader_id, {"subscription_id": sub.id, "price_id": price.id, "old_amount_minor": sub.unit_amount_minor,
                            "new_amount_minor": new_amount_minor, "effective_at": _unix(effective_at)},
            max(policy.due_at(effective_at), now), policy.window_closes_at(effective_at)))
            for sub, email in rows]


def schedule_price_change(price_id: int, new_amount_minor: int, effective_at: datetime,
                          now: datetime | None = None) -> int:
    """Record a price-change notice for every auto-renewing subscription on the price.

    Due 21 days before `effective_at`; refused when the 7-day legal minimum can no longer
    be met. Only the notices: changing the Stripe price itself is billing's job.
    """
    now = now or utcnow()
    price = check_price_change(price_id, new_amount_minor, effective_at, now)
    return record_price_change(price, new_amount_minor, effective_at, now)


def record_price_change(price: Price, new_amount_minor: int, effective_at: datetime, now: datetime) -> int:
    """The notices of a change `check_price_change` accepted (the check is the caller's)."""
    created = 0
    for batch in price_change_candidates(price, new_amount_minor, effective_at, now):
        created += record_missing(POLICIES["price_change"].kind, [candidate for _, candidate in batch])
    return created


def sweep_due_notices(now: datetime, limit: int = 500) -> list[int]:
    """Re-enqueue pending, due, unclaimed notices whose task never ran (or must retry)."""
    ids = list(db.session.scalars(
        select(Notice.id).where(
            Notice.status == NoticeStatus.PENDING, Notice.due_at <= now,
            func.coalesce(Notice.next_attempt_at, Notice.due_at) <= now - SWEEP_GRACE,
            or_(Notice.claimed_until.is_(None), Notice.claimed_until < now),
        ).order_by(Notice.due_at).limit(limit)
    ))
    for notice_id in ids:
        db.session.get_one(Notice, notice_id).next_attempt_at = now + SWEEP_BACKOFF
        enqueue_send(notice_id)
    db.session.flush()
    return ids


def schedule_due_notices(now: datetime | None = None) -> dict[str, int]:
    """Every DB-only finder and the sweeper; flushes only (the task commits)."""
    from membership.billing.notices.statements import find_year_end_statements

    now = now or utcnow()
    swept = len(sweep_due_notices(now))  # first: rows the finders add now are enqueued already
    return {
        "swept": swept,
        "renewal_notice": find_renewal_notices(now),
        "trial_ending": find_trial_endings(now),
        "annual_reminder": find_annual_reminders(now),
        "year_end_statement": find_year_end_statements(now),
    }
