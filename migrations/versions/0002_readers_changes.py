"""readers and checkout (issue 4)

Revision ID: 0002
Revises: 0001

Reserved so parallel work on domains keeps one linear history; fill in or leave empty.
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
