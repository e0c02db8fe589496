"""A commit-time balance check that works on every database.

`journal.post` checks its own lines, but code could still add a `LedgerEntry` by hand.
This hook remembers which journal transactions a session's flushes touched and, just
before COMMIT, re-reads their sums per currency; an unbalanced group aborts the commit.
It is the SQLite guarantee; on PostgreSQL the deferred constraint trigger from
migration 0005 checks again inside the database, so even raw SQL cannot bypass it.
"""

from __future__ import annotations

from itertools import chain
from typing import Any

from sqlalchemy import event, func, select
from sqlalchemy.orm import Session, UOWTransaction

from membership.ledger.models import LedgerEntry

_TOUCHED = "ledger_touched_transactions"


class UnbalancedCommit(RuntimeError):
    """A commit would leave a journal transaction that does not sum to zero."""


@event.listens_for(Session, "after_flush")
def _remember(session: Session, flush_context: UOWTransaction) -> None:
    touched: set[int] = session.info.setdefault(_TOUCHED, set())
    for obj in chain(session.new, session.dirty, session.deleted):
        if isinstance(obj, LedgerEntry) and obj.transaction_id is not None:
            touched.add(obj.transaction_id)


@event.listens_for(Session, "before_commit")
def _check(session: Session) -> None:
    pending = any(isinstance(o, LedgerEntry) for o in chain(session.new, session.dirty, session.deleted))
    if not pending and not session.info.get(_TOUCHED):
        return
    session.flush()  # the commit's own final flush runs after this hook
    touched = session.info.pop(_TOUCHED, set())
    if not touched:
        return
    rows = session.execute(
        select(LedgerEntry.transaction_id, LedgerEntry.currency, func.sum(LedgerEntry.amount_minor))
        .where(LedgerEntry.transaction_id.in_(sorted(touched)))
        .group_by(LedgerEntry.transaction_id, LedgerEntry.currency)
        .having(func.sum(LedgerEntry.amount_minor) != 0)
    ).all()
    if rows:
        session.info[_TOUCHED] = touched  # still unbalanced if the caller retries the commit
        raise UnbalancedCommit(f"unbalanced journal transactions: {[tuple(r) for r in rows]}")


def _forget(session: Session, *args: Any) -> None:
    session.info.pop(_TOUCHED, None)


event.listen(Session, "after_rollback", _forget)
