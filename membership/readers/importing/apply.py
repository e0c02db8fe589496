"""Validated records -> readers, labels, opt-ins with consent evidence, comps, Stripe links.

Why set-based: 100,000 rows must land in under a minute, so each chunk is a handful of
statements (a lookup, then INSERT ... ON CONFLICT DO NOTHING ... RETURNING per table),
never one ORM object per row. The same statements make the import idempotent by email:
a second run finds every row already there and changes nothing.

What an import never does: send or record mail (no notice rows, no confirmation
request: the opt-in was given at the source, and the consent row says where and when),
overwrite what a reader already has here (a name, an opt-out, a Stripe link), or emit
per-row events (these are Core statements, not ORM flushes; see docs/importing.md).
Services flush only; the command's unit of work commits, or a dry run rolls back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import bindparam, or_, select, update
from sqlalchemy.engine import Connection

from membership.billing.comps import MAX_COMP_DAYS
from membership.billing.models import ComplimentaryMembership
from membership.extensions import db
from membership.identity.models import Consent, ConsentKind, Reader, ReaderLabel
from membership.newsletters.models import NewsletterSubscription, OptInStatus
from membership.readers.importing.bulk import insert_rows
from membership.readers.importing.parse import Record, Rejection

CHUNK = 2000  # rows per round of statements; well under SQLite's bound-parameter limit
CONSENT_TEXT_VERSION = "import"


@dataclass(frozen=True)
class Target:
    """Where the rows go: resolved once from the command's options (options.py)."""

    source: str
    newsletter_ids: tuple[int, ...]
    comp_plan_id: int | None
    comp_until: datetime
    now: datetime

    @property
    def tag(self) -> str:
        """The evidence's source: `import:ghost`, on consents, opt-ins and comps."""
        return f"import:{self.source}"


@dataclass
class Outcome:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    opt_ins: int = 0
    consents: int = 0
    labels: int = 0
    comps: int = 0
    stripe_linked: int = 0
    rejections: list[Rejection] = field(default_factory=list)


def apply(records: Sequence[Record], target: Target, progress: Callable[[int], None] | None = None) -> Outcome:
    """Apply every record in chunks; returns the counts and the rows refused here."""
    outcome = Outcome()
    conn = db.session.connection()
    for start in range(0, len(records), CHUNK):
        chunk = records[start:start + CHUNK]
        _apply_chunk(conn, chunk, target, outcome)
        if progress is not None:
            progress(len(chunk))
    return outcome


def _apply_chunk(conn: Connection, chunk: Sequence[Record], target: Target, outcome: Outcome) -> None:
    existing = _readers_by_email(conn, [r.email for r in chunk])
    owners = _customer_owners(conn, [r.stripe_customer_id for r in chunk if r.stripe_customer_id])
    accepted = []
    for record in chunk:
        reason = _conflict(record, existing.get(record.email), owners, target)
        if reason:
            outcome.rejections.append(Rejection(record.line, reason))
        else:
            accepted.append(record)
    created = _insert_readers(conn, [r for r in accepted if r.email not in existing], target)
    ids = {email: rid for email, (rid, _) in existing.items()} | created
    late = [r.email for r in accepted if r.email not in ids]  # created meanwhile by a sign-up
    ids |= {email: rid for email, (rid, _) in _readers_by_email(conn, late).items()}
    outcome.stripe_linked += sum(1 for r in accepted if r.email in created and r.stripe_customer_id)
    touched = _link_customers(conn, accepted, existing, ids, outcome)
    touched |= _add_labels(conn, accepted, ids, target, outcome)
    touched |= _opt_in(conn, accepted, ids, target, outcome)
    touched |= _grant_comps(conn, accepted, ids, target, outcome)
    old = {ids[r.email] for r in accepted if r.email not in created}
    outcome.created += len(created)
    outcome.updated += len(old & touched)
    outcome.unchanged += len(old - touched)


def _conflict(record: Record, current: tuple[int, str | None] | None, owners: dict[str, str],
              target: Target) -> str | None:
    """Why this row cannot be applied as a whole, or None. Checked before any write."""
    customer = record.stripe_customer_id
    if customer:
        owner = owners.get(customer)
        if owner is not None and owner != record.email:
            return f"Stripe customer {customer} is linked to another reader"
        if current is not None and current[1] and current[1] != customer:
            return f"the reader is already linked to Stripe customer {current[1]}"
    if record.complimentary and target.comp_plan_id is None:
        return "complimentary, but there is no membership plan to comp (see --comp-plan)"
    return None


def _readers_by_email(conn: Connection, emails: Iterable[str]) -> dict[str, tuple[int, str | None]]:
    wanted = list(emails)
    if not wanted:
        return {}
    rows = conn.execute(select(Reader.email, Reader.id, Reader.stripe_customer_id).where(Reader.email.in_(wanted)))
    return {email: (rid, customer) for email, rid, customer in rows}


def _customer_owners(conn: Connection, customers: list[str | None]) -> dict[str, str]:
    if not customers:
        return {}
    rows = conn.execute(select(Reader.stripe_customer_id, Reader.email)
                        .where(Reader.stripe_customer_id.in_(customers)))
    return {customer: email for customer, email in rows if customer is not None}


def _insert_readers(conn: Connection, new: list[Record], target: Target) -> dict[str, int]:
    if not new:
        return {}
    rows = insert_rows(conn, Reader, [
        {"email": r.email, "name": r.name, "note": r.note, "created_at": r.created_at or target.now,
         "stripe_customer_id": r.stripe_customer_id} for r in new], ["email"], [Reader.email, Reader.id])
    return {email: rid for email, rid in rows}


def _link_customers(conn: Connection, accepted: list[Record], existing: dict[str, tuple[int, str | None]],
                    ids: dict[str, int], outcome: Outcome) -> set[int]:
    """Existing readers without a Stripe customer get the export's (never replaced)."""
    links = [(ids[r.email], r.stripe_customer_id) for r in accepted
             if r.stripe_customer_id and r.email in existing and existing[r.email][1] is None]
    if not links:
        return set()
    conn.execute(update(Reader).where(Reader.id == bindparam("rid"), Reader.stripe_customer_id.is_(None))
                 .values(stripe_customer_id=bindparam("customer")),
                 [{"rid": rid, "customer": customer} for rid, customer in links])
    outcome.stripe_linked += len(links)
    return {rid for rid, _ in links}


def _add_labels(conn: Connection, accepted: list[Record], ids: dict[str, int], target: Target,
                outcome: Outcome) -> set[int]:
    rows = [{"reader_id": ids[r.email], "label": label, "created_at": target.now}
            for r in accepted for label in r.labels]
    if not rows:
        return set()
    added = insert_rows(conn, ReaderLabel, rows, ["reader_id", "label"], [ReaderLabel.reader_id])
    outcome.labels += len(added)
    return {rid for rid, in added}


def _opt_in(conn: Connection, accepted: list[Record], ids: dict[str, int], target: Target,
            outcome: Outcome) -> set[int]:
    """Confirmed opt-ins dated from the export, and one consent row per reader whose
    opt-ins are new. An opt-in or opt-out already here is left as it is."""
    subscribed = [r for r in accepted if r.subscribed]
    if not subscribed or not target.newsletter_ids:
        return set()
    given = {ids[r.email]: r.opted_in_at or r.created_at or target.now for r in subscribed}
    added = insert_rows(conn, NewsletterSubscription, [
        {"reader_id": rid, "newsletter_id": nid, "status": OptInStatus.CONFIRMED, "source": target.tag,
         "requested_at": at, "confirmed_at": at} for rid, at in given.items() for nid in target.newsletter_ids],
        ["reader_id", "newsletter_id"], [NewsletterSubscription.reader_id])
    readers = {rid for rid, in added}
    insert_rows(conn, Consent, [
        {"reader_id": rid, "kind": ConsentKind.NEWSLETTER, "text_version": CONSENT_TEXT_VERSION,
         "source": target.tag, "created_at": given[rid]} for rid in sorted(readers)])
    outcome.opt_ins += len(added)
    outcome.consents += len(readers)
    return readers


def _grant_comps(conn: Connection, accepted: list[Record], ids: dict[str, int], target: Target,
                 outcome: Outcome) -> set[int]:
    """A comp per complimentary reader, unless they have a live comp or ever had one from
    an import (so a comp staff revoked does not come back with the next run)."""
    latest = target.now + timedelta(days=MAX_COMP_DAYS)
    wanted = {ids[r.email]: min(r.comp_expires_at or target.comp_until, latest)
              for r in accepted if r.complimentary and target.comp_plan_id is not None}
    wanted = {rid: until for rid, until in wanted.items() if until > target.now}
    if not wanted:
        return set()
    comp = ComplimentaryMembership
    have = set(conn.execute(select(comp.reader_id).where(
        comp.reader_id.in_(list(wanted)),
        or_(comp.reason.like("import:%"), (comp.revoked_at.is_(None)) & (comp.expires_at > target.now)))).scalars())
    grant = {rid: until for rid, until in wanted.items() if rid not in have}
    insert_rows(conn, comp, [
        {"reader_id": rid, "plan_id": target.comp_plan_id, "reason": target.tag, "starts_at": target.now,
         "expires_at": until, "created_at": target.now} for rid, until in grant.items()])
    outcome.comps += len(grant)
    return set(grant)
