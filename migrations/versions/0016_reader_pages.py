"""reader pages: the language a gift's recipient is written to

A gift bought on the Armenian page is announced to its recipient in Armenian, even when the
recipient has no reader row (and so no stored language) yet.

Revision ID: 0016
Revises: 0015
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("gift_memberships", sa.Column("recipient_language", sa.String(8), nullable=True))


def downgrade() -> None:
    op.drop_column("gift_memberships", "recipient_language")
