"""reader language: the language of a reader's pages and mail (membership/i18n.py)

Revision ID: 0013
Revises: 0012

Existing readers read English, as everything they received so far was in English.
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("readers") as batch:
        batch.add_column(sa.Column("language", sa.String(8), nullable=False, server_default="en"))


def downgrade() -> None:
    with op.batch_alter_table("readers") as batch:
        batch.drop_column("language")
