"""Staff API authentication: `Authorization: Bearer <token>` and a role check.

The resolved staff user is kept in the WSGI environ (request-scoped), not on
`flask.g`, which lives as long as the app context and may span requests.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import request

from membership.enums import StaffRole
from membership.errors import Forbidden, Unauthorized
from membership.staff.models import StaffUser
from membership.staff.services import staff_for_token

_KEY = "membership.staff_user"
View = TypeVar("View", bound=Callable[..., Any])


def bearer_staff() -> StaffUser:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    staff = staff_for_token(token.strip()) if scheme.lower() == "bearer" and token.strip() else None
    if staff is None:
        raise Unauthorized("Send a valid staff token: Authorization: Bearer <token>.")
    request.environ[_KEY] = staff
    return staff


def require_staff() -> None:
    """Any enabled staff role (the guard of read-only staff operations)."""
    bearer_staff()


def require_admin() -> None:
    if bearer_staff().role is not StaffRole.ADMIN:
        raise Forbidden("This needs the admin role.")


def current_staff() -> StaffUser:
    staff = request.environ.get(_KEY)
    return staff if isinstance(staff, StaffUser) else bearer_staff()


def staff_required(view: View) -> View:
    """Decorate a staff-only view: any enabled staff role, 401 problem otherwise."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        bearer_staff()
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
