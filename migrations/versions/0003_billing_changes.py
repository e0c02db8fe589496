"""billing webhooks and ledger (issue 5)

Revision ID: 0003
Revises: 0002

Reserved so parallel work on domains keeps one linear history; fill in or leave empty.
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
