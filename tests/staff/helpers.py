"""Staff tokens by role for the API tests (committed: a refused request rolls back the session)."""

from __future__ import annotations

from membership.enums import StaffRole
from membership.extensions import db
from membership.staff.services import create_staff_user
from tests.readers.helpers import unique_email


def bearer(role: StaffRole, email: str | None = None) -> dict[str, str]:
    _user, token = create_staff_user(email or unique_email(role.value), role)
    db.session.commit()
    return {"Authorization": f"Bearer {token}"}
