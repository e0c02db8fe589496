"""finance reports: indexes for the donor, waterfall, renewal, cash and export queries

Revision ID: 0005
Revises: 0004
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_payments_stream_paid_at", "payments", ["stream", "paid_at"])
    op.create_index("ix_payments_subscription_period_end", "payments", ["subscription_id", "service_period_end"])
    op.create_index("ix_journal_transactions_period_kind", "journal_transactions", ["period", "kind"])


def downgrade() -> None:
    op.drop_index("ix_journal_transactions_period_kind", table_name="journal_transactions")
    op.drop_index("ix_payments_subscription_period_end", table_name="payments")
    op.drop_index("ix_payments_stream_paid_at", table_name="payments")
