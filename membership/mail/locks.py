"""A lock so two beat schedulers (or a slow run and the next one) never overlap.

On PostgreSQL a transaction-scoped advisory lock: released by the commit that ends the
run, or by the database when the worker dies, so it can never be left stuck. SQLite
(the embedded single-process default) serialises writers already.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import text

from membership.extensions import db


def try_run_lock(name: str) -> bool:
    """True if this transaction now holds the lock `name` (until it commits or rolls back)."""
    if db.session.get_bind().dialect.name != "postgresql":
        return True
    key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
    return bool(db.session.scalar(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": key}))
