"""Who may open the dashboard: the console's own guard when it exists, else an interim one.

The console's sign-in (staff sessions with a second factor, `console_page` in
membership/console/auth.py) is written in parallel; until it is on main this module
accepts a staff API token (`Authorization: Bearer`), checks the same permission table
(membership/staff/roles.py) and answers `Cache-Control: no-store`. The token path also
means the staff audit hook (membership/staff/audit.py, an after-app-request hook) records
every CSV download, as it does for the API's. Nothing here outlives auth.py landing:
`staff_page` then is `console_page`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import current_app, make_response, render_template
from jinja2 import TemplateNotFound

from membership.console.blueprint import bp
from membership.errors import DomainError, Forbidden
from membership.staff.auth import current_staff
from membership.staff.roles import allows

View = Callable[..., Any]


def _interim(permission: str, *more: str) -> Callable[[View], View]:
    def decorate(view: View) -> View:
        @functools.wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            try:
                staff = current_staff()
                if not all(allows(staff.role, p) for p in (permission, *more)):
                    raise Forbidden(f"Your role ({staff.role.value}) may not open this page.")
                response = make_response(view(*args, **kwargs))
            except DomainError as exc:
                response = make_response(render_template("console/dashboard_error.html", title=exc.title,
                                                         detail=exc.detail), exc.status)
            response.headers["Cache-Control"] = "no-store"
            return response

        return guarded

    return decorate


def staff_page(permission: str, *more: str) -> Callable[[View], View]:
    """The console's guard for `permission` (and `more`, e.g. exports:download)."""
    try:
        from membership.console.auth import console_page  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        return _interim(permission, *more)
    guard: Callable[[View], View] = console_page(permission, *more)
    return guard


@bp.context_processor
def _layout() -> dict[str, Any]:
    """The console's layout (console/base.html) once it exists, else the dashboard's own."""
    try:
        current_app.jinja_env.get_template("console/base.html")
        return {"dashboard_layout": "console/base.html"}
    except TemplateNotFound:
        return {"dashboard_layout": "console/dashboard_fallback.html"}
