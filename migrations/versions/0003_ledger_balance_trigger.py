"""ledger (issue 5, money): every journal transaction balances, checked at COMMIT

Revision ID: 0003
Revises: 0002

PostgreSQL gets a deferred constraint trigger on ledger_entries: at COMMIT, each
touched journal transaction must sum to zero per currency, whatever wrote the rows.
SQLite has no deferred triggers (a row trigger would reject the first line of every
group), so there the service-level check in membership/ledger/guard.py (a
before_commit hook) and journal.post's own check stand in; nothing is created.
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

CHECK_FUNCTION = """
CREATE OR REPLACE FUNCTION ledger_check_balanced() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    txn_ids bigint[];
    bad record;
BEGIN
    IF TG_OP = 'DELETE' THEN
        txn_ids := ARRAY[OLD.transaction_id];
    ELSIF TG_OP = 'UPDATE' THEN
        txn_ids := ARRAY[OLD.transaction_id, NEW.transaction_id];
    ELSE
        txn_ids := ARRAY[NEW.transaction_id];
    END IF;
    SELECT transaction_id, currency, SUM(amount_minor) AS total INTO bad
      FROM ledger_entries
     WHERE transaction_id = ANY(txn_ids)
     GROUP BY transaction_id, currency
    HAVING SUM(amount_minor) <> 0
     LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'journal transaction % does not balance in %: off by %',
            bad.transaction_id, bad.currency, bad.total
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END;
$$;
"""

CREATE_TRIGGER = """
CREATE CONSTRAINT TRIGGER ledger_entries_balanced
AFTER INSERT OR UPDATE OR DELETE ON ledger_entries
DEFERRABLE INITIALLY DEFERRED
FOR EACH ROW EXECUTE FUNCTION ledger_check_balanced();
"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(CHECK_FUNCTION)
    op.execute(CREATE_TRIGGER)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS ledger_entries_balanced ON ledger_entries")
    op.execute("DROP FUNCTION IF EXISTS ledger_check_balanced()")
