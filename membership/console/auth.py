"""Who may open a console page: `console_page(permission)`, and what every console
response carries.

Every console view is wrapped by `console_page`, which, in this order:
1. finds the staff session the cookie names (its own key, `staff_sid`, in the signed
   session cookie; rows in `staff_sessions`: membership/staff/console_sessions.py). A
   reader's session is a different key and table, so it never counts here; no session
   sends a GET to the sign-in page (and back afterwards) and refuses anything else (401);
2. asks for the second factor (membership/staff/totp.py) when the person's role needs it
   (admin, finance) or they enrolled one, before any page: enrolment when they have none;
3. checks the role's permission (membership/staff/roles.py): 403 page otherwise;
4. checks the CSRF token on POST (form field `csrf_token`, the staff session's own token);
5. names the caller for the staff audit hook (membership/staff/audit.py), which then
   records every console write and download exactly as it does the API's.

Every response of the blueprint (pages, errors, redirects, files) is `no-store`.
"""

from __future__ import annotations

import functools
import hmac
import secrets
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from flask import current_app, redirect, render_template, request, session, url_for
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from membership.console.blueprint import bp
from membership.errors import DomainError, Forbidden, Unauthorized
from membership.staff import console_sessions, totp
from membership.staff.auth import CALLER_KEY, STAFF_KEY, Caller
from membership.staff.models import StaffUser
from membership.staff.roles import allows, check_permission, roles_with

SID_KEY = "staff_sid"
CSRF_KEY = "staff_csrf"
CSRF_FIELD = "csrf_token"
_CACHE = "membership.console_session"
GUARD_MARK = "console_permissions"  # on every guarded view: the test that no console route is open reads it
View = Callable[..., Any]

# The console's areas, in the nav's order: (label, path, permission). An area shows
# when the role holds its permission and its page exists (each is a helper's module).
NAV: tuple[tuple[str, str, str], ...] = (
    ("Dashboard", "/staff/dashboard", "reports:read"),
    ("Members", "/staff/members", "members:read"),
    ("Catalogue", "/staff/catalogue", "catalogue:read"),
    ("Newsletters", "/staff/newsletters", "newsletters:read"),
    ("Operations", "/staff/operations", "operations:read"),
)


class SecondFactorNeeded(Exception):
    """Raised by the guard: the session has not passed the second factor yet."""


def current() -> console_sessions.Live | None:
    """This request's live console session (looked up once per request)."""
    if _CACHE in request.environ:
        cached: console_sessions.Live | None = request.environ[_CACHE]
        return cached
    raw = session.get(SID_KEY)
    found = console_sessions.lookup(raw) if isinstance(raw, str) else None
    request.environ[_CACHE] = found
    return found


def csrf_token() -> str:
    token = session.get(CSRF_KEY)
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        session[CSRF_KEY] = token
    return token


def check_csrf() -> None:
    expected = session.get(CSRF_KEY)
    sent = request.form.get(CSRF_FIELD) if request.form else request.headers.get("X-CSRF-Token")
    if not isinstance(expected, str) or not sent or not hmac.compare_digest(expected, sent):
        raise Forbidden("The form was stale or not sent from the console (CSRF token missing or wrong). "
                        "Go back, reload the page and try again.")


def begin(user: StaffUser, verified: bool = False) -> None:
    """Sign this browser in to the console: a new session row and a fresh CSRF token.
    Any earlier console session this cookie named is ended; a reader's session in the
    same browser is left alone (it is another key and grants nothing here). Flushes."""
    earlier = current()
    if earlier is not None:
        console_sessions.end(earlier.session_id)
    raw = console_sessions.start(user, request.remote_addr, request.headers.get("User-Agent"), verified)
    session.permanent = True
    session[SID_KEY] = raw
    session[CSRF_KEY] = secrets.token_urlsafe(32)
    request.environ.pop(_CACHE, None)


def sign_out() -> None:
    found = current()
    if found is not None:
        console_sessions.end(found.session_id)
    session.pop(SID_KEY, None)
    session.pop(CSRF_KEY, None)
    request.environ.pop(_CACHE, None)


def needs_second_factor(found: console_sessions.Live) -> bool:
    return not found.verified and totp.required(found.user)


def staff() -> StaffUser:
    """The staff member of a guarded view."""
    found = current()
    if found is None:
        raise Unauthorized("Sign in to the console first.")
    return found.user


def safe_next(target: str | None, default: str | None = None) -> str:
    """Only a path inside the console: never another site (an open redirect)."""
    fallback = default or url_for("console.home")
    if not target:
        return fallback
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/staff") or target.startswith(("//", "/\\")):
        return fallback
    return target


def home_for(user: StaffUser) -> str:
    """The first area the role may open."""
    for _label, path, permission in NAV:
        if allows(user.role, permission) and _exists(path):
            return path
    return url_for("console.home_page")


def _exists(path: str) -> bool:
    adapter = current_app.url_map.bind("")
    try:
        adapter.match(path, method="GET")
    except HTTPException:  # NotFound, MethodNotAllowed (RequestRedirect is one too)
        return False
    return True


def nav_for(user: StaffUser | None) -> list[tuple[str, str]]:
    if user is None:
        return []
    return [(label, path) for label, path, permission in NAV if allows(user.role, permission) and _exists(path)]


def console_page(permission: str, *more: str) -> Callable[[View], View]:
    """Guard a console view: sign-in, second factor, `permission` (and `more`), CSRF on POST."""
    needed = tuple(check_permission(p) for p in (permission, *more))

    def decorate(view: View) -> View:
        @functools.wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            found = current()
            if found is None:
                if request.method == "GET":
                    return redirect(url_for("console.home", next=request.full_path.rstrip("?")), 303)
                raise Unauthorized("Your console session has ended. Sign in again, then repeat the step.")
            if needs_second_factor(found):
                if request.method == "GET":
                    return redirect(url_for("console.second_factor", next=request.full_path.rstrip("?")), 303)
                raise Unauthorized("Confirm the code from your authenticator app first.")
            for need in needed:
                if not allows(found.user.role, need):
                    holders = ", ".join(role.value for role in roles_with(need))
                    raise Forbidden(f"Your role ({found.user.role.value}) may not open this page or do this: "
                                    f"it needs the {need} permission (held by: {holders}).")
            request.environ[STAFF_KEY] = found.user
            request.environ[CALLER_KEY] = Caller(found.user.email, None, None)
            if request.method == "POST":
                check_csrf()
            return view(*args, **kwargs)

        setattr(guarded, GUARD_MARK, needed)
        return guarded

    return decorate


def error_page(exc: DomainError) -> tuple[str, int]:
    found = current()
    return render_template("console/error.html", title=exc.title, detail=exc.detail, status=exc.status,
                           signed_in=found is not None), exc.status


@bp.errorhandler(DomainError)
def _domain_error(exc: DomainError) -> tuple[str, int]:
    return error_page(exc)


@bp.after_request
def _no_store(response: Response) -> Response:
    """No console response is kept by a browser or proxy: figures and members' data."""
    if request.endpoint != "console.static":
        response.headers["Cache-Control"] = "no-store"
        response.headers["Pragma"] = "no-cache"
    return response


@bp.context_processor
def _layout() -> dict[str, Any]:
    found = current()
    user = found.user if found is not None and not needs_second_factor(found) else None
    return {"staff_user": user, "console_nav": nav_for(user), "csrf": csrf_token(),
            "signed_in_unverified": found is not None and user is None}
