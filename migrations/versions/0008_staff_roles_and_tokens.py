"""staff roles (admin, finance, editor, support), token expiry and revocation, audit

Revision ID: 0008
Revises: 0007

Roles stay a VARCHAR plus a CHECK (membership/db.py `str_enum`), so widening them is
swapping the CHECK (batch mode on SQLite, which cannot alter a constraint in place).
Tokens that exist at upgrade get 90 days from the upgrade rather than from their
creation, so a deploy does not lock every staff member out at once. The audit log
gets an index on its time for the `since` filter of GET /api/staff/audit.
"""

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

CHECK = "ck_staff_users_staffrole"
OLD_ROLES = ("finance", "admin")
NEW_ROLES = ("admin", "finance", "editor", "support")


def _in(roles: tuple[str, ...]) -> str:
    return "role IN (" + ", ".join(f"'{r}'" for r in roles) + ")"


def _swap_role_check(roles: tuple[str, ...]) -> None:
    with op.batch_alter_table("staff_users") as batch:
        batch.drop_constraint(op.f(CHECK), type_="check")
        batch.create_check_constraint(op.f(CHECK), _in(roles))


def upgrade() -> None:
    _swap_role_check(NEW_ROLES)
    op.add_column("api_tokens", sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
    op.execute(sa.text("UPDATE api_tokens SET expires_at = :at").bindparams(
        sa.bindparam("at", datetime.now(UTC) + timedelta(days=90), type_=sa.DateTime(timezone=True))))
    with op.batch_alter_table("api_tokens") as batch:
        batch.alter_column("expires_at", existing_type=sa.DateTime(timezone=True), nullable=False)
    op.create_index(op.f("ix_audit_log_at"), "audit_log", ["at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_audit_log_at"), table_name="audit_log")
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_column("expires_at")
    # The old schema has no editor or support: such accounts are disabled and their
    # tokens revoked (never widened to finance, which could read every report before).
    now = sa.bindparam("now", datetime.now(UTC), type_=sa.DateTime(timezone=True))
    roles = ", ".join(f"'{r}'" for r in OLD_ROLES)
    op.execute(sa.text(f"UPDATE api_tokens SET revoked_at = :now WHERE revoked_at IS NULL AND staff_user_id IN "
                       f"(SELECT id FROM staff_users WHERE role NOT IN ({roles}))").bindparams(now))
    op.execute(sa.text(f"UPDATE staff_users SET disabled_at = COALESCE(disabled_at, :now), role = 'finance' "
                       f"WHERE role NOT IN ({roles})").bindparams(now))
    _swap_role_check(OLD_ROLES)
