"""discount MRR (issue 5): the monthly discount each subscription carries and each
movement changes, so full-price MRR and discount MRR are sums like MRR itself

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("subscriptions") as batch:
        batch.add_column(sa.Column("discount_minor", sa.BigInteger(), nullable=False, server_default="0"))
    with op.batch_alter_table("subscription_events") as batch:
        batch.add_column(sa.Column("discount_delta_minor", sa.BigInteger(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("subscription_events") as batch:
        batch.drop_column("discount_delta_minor")
    with op.batch_alter_table("subscriptions") as batch:
        batch.drop_column("discount_minor")
