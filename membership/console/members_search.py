"""Member search for the console: by email, name or Stripe id, fast at 100k readers.

Each kind of query is one indexed lookup with a limit, never a scan:
- an email (anything with "@") is a prefix of `readers.email` (stored lower-cased), as a
  range on its unique btree (`_prefix` says why not a bare LIKE);
- a Stripe id: `cus_` a prefix of `readers.stripe_customer_id` (unique btree), `sub_` of
  subscriptions, `ch_`/`py_` of payments' charges, `in_` of their invoices (their btrees;
  payment intents have no index, so `pi_` is not offered);
- anything else is part of a name (`name ILIKE '%text%'` through the trigram index below:
  pg_trgm serves ILIKE) or the start of an address: two queries, merged.

The trigram index (migration 0017) is declared here, beside the only query that needs
it, rather than on the Reader model: it exists for the console. On SQLite (the embedded
default, a small outlet) it is a plain btree and the name match scans.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Index, Select, and_, select

from membership.billing.models import Payment, Subscription
from membership.extensions import db
from membership.identity.models import Reader

LIMIT = 50
_TOP = chr(0x10FFFF)  # the highest code point: an upper bound for a prefix range
NAME_INDEX = Index("ix_readers_name_trgm", Reader.name, postgresql_using="gin",
                   postgresql_ops={"name": "gin_trgm_ops"})


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@dataclass(frozen=True)
class Found:
    readers: list[Reader]
    kind: str  # email | name | stripe id
    more: bool  # the limit cut the list


def _prefix(column: Any, text: str) -> ColumnElement[bool]:
    """`column` starts with `text`, as a range the btree answers (and the LIKE for exactness).

    Why the range: PostgreSQL serves `LIKE 'x%'` from a plain btree only under the "C"
    collation, and this database collates C.UTF-8, which it does not count as such
    (bench/console_search.py: 40 ms, a full scan). Code-point order puts every string
    that starts with `text` between `text` and `text` + U+10FFFF."""
    return and_(column >= text, column < text + _TOP, column.like(_escape(text) + "%", escape="\\"))


def _readers(condition: ColumnElement[bool], limit: int) -> list[Reader]:
    return list(db.session.scalars(select(Reader).where(Reader.deleted_at.is_(None), condition)
                                   .order_by(Reader.email).limit(limit + 1)))


def search(query: str, limit: int = LIMIT) -> Found:
    text = " ".join(query.split())[:200]
    if not text:
        return Found([], "", False)
    lowered = text.lower()
    if lowered.startswith("cus_"):
        kind, rows = "stripe id", _readers(_prefix(Reader.stripe_customer_id, text), limit)
    elif lowered.startswith("sub_"):
        ids: Select[Any] = select(Subscription.reader_id).where(
            _prefix(Subscription.stripe_subscription_id, text)).limit(limit + 1)
        kind, rows = "stripe id", _readers(Reader.id.in_(ids), limit)
    elif lowered.startswith(("ch_", "py_", "in_")):
        column = Payment.stripe_invoice_id if lowered.startswith("in_") else Payment.stripe_charge_id
        ids = select(Payment.reader_id).where(Payment.reader_id.is_not(None), _prefix(column, text)).limit(limit + 1)
        kind, rows = "stripe id", _readers(Reader.id.in_(ids), limit)
    elif "@" in lowered:
        kind, rows = "email", _readers(_prefix(Reader.email, lowered), limit)
    else:
        # Two indexed queries rather than one OR, which no index answers (a full scan).
        kind = "name"
        by_name = _readers(Reader.name.ilike("%" + _escape(text) + "%", escape="\\"), limit)
        by_email = _readers(_prefix(Reader.email, lowered), limit)
        merged = {r.id: r for r in by_name + by_email}
        rows = sorted(merged.values(), key=lambda r: r.email)
    return Found(rows[:limit], kind, len(rows) > limit)
