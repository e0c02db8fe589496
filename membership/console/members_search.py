"""Member search for the console: by email, name or Stripe id, fast at 100k readers.

Each kind of query is one indexed lookup with a limit, never a scan:
- an email (anything with "@", or that looks like one) is a prefix of `readers.email`
  (stored lower-cased; the unique btree serves `LIKE 'prefix%'` because the database
  collates C);
- a Stripe id: `cus_` a prefix of `readers.stripe_customer_id` (unique btree), `sub_` of
  subscriptions, `ch_`/`pi_`/`in_` of payments (their btrees);
- anything else is part of a name or of an address: `name ILIKE '%text%'` through the
  trigram index below (pg_trgm serves ILIKE), or the email prefix.

The trigram index (migration 0017) is declared here, beside the only query that needs
it, rather than on the Reader model: it exists for the console. On SQLite (the embedded
default, a small outlet) it is a plain btree and the name match scans.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Index, Select, or_, select

from membership.billing.models import Payment, Subscription
from membership.extensions import db
from membership.identity.models import Reader

LIMIT = 50
NAME_INDEX = Index("ix_readers_name_trgm", Reader.name, postgresql_using="gin",
                   postgresql_ops={"name": "gin_trgm_ops"})


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@dataclass(frozen=True)
class Found:
    readers: list[Reader]
    kind: str  # email | name | stripe id
    more: bool  # the limit cut the list


def search(query: str, limit: int = LIMIT) -> Found:
    text = " ".join(query.split())[:200]
    if not text:
        return Found([], "", False)
    lowered = text.lower()
    prefix = _escape(lowered) + "%"
    stmt = select(Reader).where(Reader.deleted_at.is_(None))
    if lowered.startswith("cus_"):
        kind, stmt = "stripe id", stmt.where(Reader.stripe_customer_id.like(_escape(text) + "%", escape="\\"))
    elif lowered.startswith("sub_"):
        ids: Select[Any] = select(Subscription.reader_id).where(
            Subscription.stripe_subscription_id.like(_escape(text) + "%", escape="\\")).limit(limit)
        kind, stmt = "stripe id", stmt.where(Reader.id.in_(ids))
    elif lowered.startswith(("ch_", "py_", "pi_", "in_")):
        pattern = _escape(text) + "%"
        ids = select(Payment.reader_id).where(Payment.reader_id.is_not(None), or_(
            Payment.stripe_charge_id.like(pattern, escape="\\"),
            Payment.stripe_payment_intent_id.like(pattern, escape="\\"),
            Payment.stripe_invoice_id.like(pattern, escape="\\"))).limit(limit)
        kind, stmt = "stripe id", stmt.where(Reader.id.in_(ids))
    elif "@" in lowered:
        kind, stmt = "email", stmt.where(Reader.email.like(prefix, escape="\\"))
    else:
        kind = "name"
        stmt = stmt.where(or_(Reader.name.ilike("%" + _escape(text) + "%", escape="\\"),
                              Reader.email.like(prefix, escape="\\")))
    rows = list(db.session.scalars(stmt.order_by(Reader.email).limit(limit + 1)))
    return Found(rows[:limit], kind, len(rows) > limit)
