"""cash summary: a covering index on ledger_entries so a month's cash lines are read from
the index (nested loop over the period's groups) instead of a full scan of the ledger

Revision ID: 0006
Revises: 0005
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_ledger_entries_transaction_account", "ledger_entries", ["transaction_id", "account"],
                    postgresql_include=["amount_minor", "currency", "stream"])


def downgrade() -> None:
    op.drop_index("ix_ledger_entries_transaction_account", table_name="ledger_entries")
