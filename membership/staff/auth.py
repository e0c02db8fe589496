"""Staff API authentication (`Authorization: Bearer <token>`) and the permission guard.

Every staff operation declares `security=require_permission("...")`: the name of a
security scheme whose guard checks the token and the role's permission
(membership/staff/roles.py) before the request is parsed, and whose OpenAPI
description lists the roles that hold it. A request for a file (`format=` anything but
json) also needs `exports:download`, so no role without it can export through any
route, present or future.

The resolved staff user and token are kept in the WSGI environ (request-scoped), not
on `flask.g`, which lives as long as the app context and may span requests; the
audit hook (audit.py) reads them from there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from flask import request

from membership.api import REGISTRY, register_security
from membership.errors import Forbidden, Unauthorized
from membership.staff.models import StaffUser
from membership.staff.roles import PERMISSIONS, allows, check_permission, roles_with
from membership.staff.services import check_token

STAFF_KEY = "membership.staff_user"
CALLER_KEY = "membership.staff_caller"
EXPORT_PERMISSION = "exports:download"


@dataclass(frozen=True)
class Caller:
    """Plain values copied at authentication: the view's commit expires ORM objects,
    and the audit hook must not reload them (or fail) after the response is built."""

    email: str
    token_id: int | None  # None: a console session (membership/console/auth.py), not a token
    last_used_at: datetime | None


def bearer_staff() -> StaffUser:
    """The staff member behind the request's token, or a 401 saying what is wrong with it."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized("Send a staff token: Authorization: Bearer <token>.", reason="missing")
    verdict = check_token(token)
    if verdict.staff is None or verdict.token is None:
        raise Unauthorized(verdict.detail, reason=verdict.reason)
    request.environ[STAFF_KEY] = verdict.staff
    request.environ[CALLER_KEY] = Caller(verdict.staff.email, verdict.token.id, verdict.token.last_used_at)
    return verdict.staff


def current_staff() -> StaffUser:
    staff = request.environ.get(STAFF_KEY)
    return staff if isinstance(staff, StaffUser) else bearer_staff()


def current_caller() -> Caller | None:
    """Who authenticated this request, if anyone (read by the audit hook)."""
    caller = request.environ.get(CALLER_KEY)
    return caller if isinstance(caller, Caller) else None


def is_export() -> bool:
    """A request for a file rather than JSON (today `format=csv` on the reports)."""
    return request.args.get("format", "json") != "json"


def require_permission(permission: str) -> str:
    """The security scheme for `permission` (registered once), for `@operation(security=...)`."""
    check_permission(permission)
    name = "staff." + permission.replace(":", ".")
    if name not in REGISTRY.security:
        roles = ", ".join(role.value for role in roles_with(permission))
        register_security(name, {"type": "http", "scheme": "bearer",
                                 "description": f"A staff API token whose role holds `{permission}` "
                                                f"({roles}): {PERMISSIONS[permission]}"}, _guard(permission))
    return name


def _guard(permission: str) -> Callable[[], None]:
    def guard() -> None:
        staff = bearer_staff()
        needed = (permission, EXPORT_PERMISSION) if is_export() else (permission,)
        for need in needed:
            if not allows(staff.role, need):
                holders = ", ".join(role.value for role in roles_with(need))
                raise Forbidden(f"The {staff.role.value} role may not do this: it needs `{need}` "
                                f"(held by {holders}).", permission=need)

    return guard
