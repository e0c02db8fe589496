"""Console sign-in by magic link, and sign-out.

`/staff` is the door: signed in, it leads to the person's first area; otherwise it asks
for a staff address and mails a link (`/staff/signin/<token>`). The answer is the same
whether or not the address is staff (membership/staff/console_sessions.py does equal
work). A link opens a page with a button (POST): mail scanners that prefetch links must
not use up a single-use link. Requests for links are rate-limited per IP and per address.
"""

from __future__ import annotations

from flask import current_app, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from membership.api.limits import _ns, ip_key
from membership.console import auth
from membership.console.blueprint import bp
from membership.extensions import limiter
from membership.staff import console_sessions
from membership.unit_of_work import transactional

LIMITS = {"STAFF_SIGNIN_PER_IP": "30/hour", "STAFF_SIGNIN_PER_EMAIL": "5/15 minutes"}


def _limit(name: str) -> str:
    return str(current_app.config.get(f"RATELIMIT_{name}", LIMITS[name]))


def _email_key() -> str:
    email = request.form.get("email", "").strip().lower()[:320]
    return _ns("staff-email:" + email) if email else ip_key()


def _valid_email(email: str) -> bool:
    local, at, domain = email.partition("@")
    return bool(at and local and "." in domain and len(email) <= 320 and " " not in email)


@bp.get("")
@bp.get("/")
def home() -> Response | str:
    """Signed in: on to the first area (or where the person was going). Else the form."""
    found = auth.current()
    target = request.args.get("next")
    if found is not None and auth.needs_second_factor(found):
        return redirect(url_for("console.second_factor", next=target or None), 303)
    if found is not None:
        return redirect(auth.safe_next(target, auth.home_for(found.user)), 303)
    return render_template("console/signin.html", next=target or "")


@bp.get("/home")
@auth.console_page("console:open")
def home_page() -> str:
    return render_template("console/home.html")


@bp.post("/signin")
@limiter.limit(lambda: _limit("STAFF_SIGNIN_PER_IP"), key_func=ip_key, scope="staff-signin:ip")
@limiter.limit(lambda: _limit("STAFF_SIGNIN_PER_EMAIL"), key_func=_email_key, scope="staff-signin:email")
@transactional
def signin_post() -> tuple[str, int]:
    auth.check_csrf()
    email = request.form.get("email", "").strip().lower()
    if not _valid_email(email):
        return render_template("console/signin.html", email=email[:254], next=request.form.get("next", ""),
                               error="Enter your staff email address, such as name@example.org."), 422
    console_sessions.request_link(email)
    return render_template("console/signin_sent.html", email=email), 202


@bp.get("/signin/<token>")
def signin_link(token: str) -> tuple[str, int]:
    usable = console_sessions.link_usable(token)
    return render_template("console/signin_link.html", usable=usable), 200 if usable else 410


@bp.post("/signin/<token>")
@transactional
def signin_link_post(token: str) -> Response | tuple[str, int]:
    auth.check_csrf()
    user = console_sessions.consume_link(token)
    if user is None:
        return render_template("console/signin_link.html", usable=False), 410
    auth.begin(user)
    found = auth.current()
    if found is not None and auth.needs_second_factor(found):
        return redirect(url_for("console.second_factor"), 303)
    return redirect(auth.home_for(user), 303)


@bp.post("/signout")
@transactional
def signout() -> Response:
    auth.check_csrf()
    auth.sign_out()
    return redirect(url_for("console.home"), 303)
