"""The second factor's pages: enrolment (QR code, `Setup key`, first code, recovery codes
shown once) and the code asked after each sign-in (membership/staff/totp.py).

These pages need a console session but not yet a verified one, so they check the
session themselves rather than through `console_page`. Wrong codes are counted and
committed before the 422 answer; after too many the account is locked for a while (429).
"""

from __future__ import annotations

import segno
from flask import current_app, redirect, render_template, request, url_for
from markupsafe import Markup
from werkzeug.wrappers import Response

from membership.console import auth
from membership.console.blueprint import bp
from membership.errors import Unauthorized
from membership.staff import console_sessions, totp
from membership.staff.console_sessions import Live
from membership.unit_of_work import transactional


def _session() -> Live:
    found = auth.current()
    if found is None:
        raise Unauthorized("Sign in to the console first: your session has ended or never began.")
    return found


def _next() -> str:
    return auth.safe_next(request.values.get("next") or None)


def _qr(uri: str) -> Markup:
    """The key as a QR code, an inline SVG (no image request, no script)."""
    svg = segno.make(uri, error="m").svg_inline(scale=5, border=4, title="QR code of your setup key")
    return Markup(svg.replace("<svg ", '<svg role="img" aria-label="QR code of your setup key" ', 1))


def _grouped(key: str) -> str:
    return " ".join(key[i:i + 4] for i in range(0, len(key), 4))


@bp.get("/second-factor")
@transactional
def second_factor() -> Response | str:
    found = _session()
    if not auth.needs_second_factor(found):
        return redirect(_next(), 303)
    if not totp.enrolled(found.user):
        return redirect(url_for("console.totp_setup", next=request.args.get("next") or None), 303)
    return render_template("console/totp_verify.html", next=request.args.get("next", ""))


@bp.post("/second-factor")
@transactional
def second_factor_post() -> Response | tuple[str, int]:
    found = _session()
    auth.check_csrf()
    if not auth.needs_second_factor(found):
        return redirect(_next(), 303)
    verdict = totp.check(found.user, request.form.get("code", "")[:64])
    if verdict.ok:
        console_sessions.mark_verified(found.session_id)
        return redirect(_next(), 303)
    if verdict.reason == "locked":
        until = verdict.locked_until.strftime("%H:%M UTC") if verdict.locked_until else "later"
        return render_template("console/totp_verify.html", next=request.form.get("next", ""),
                               error=f"Too many wrong codes: this account accepts no code until {until}. "
                                     "Wait, then try again with a fresh code."), 429
    return render_template("console/totp_verify.html", next=request.form.get("next", ""),
                           error="That code is not right (or was used already). Type the code the app "
                                 "shows now, or a recovery code."), 422


def _setup_page(found: Live, status: int = 200, error: str | None = None) -> tuple[str, int]:
    key = totp.pending_secret(found.user)
    issuer = f"{current_app.config['SETTINGS'].outlet_name} staff"
    return render_template("console/totp_enrol.html", qr=_qr(totp.provisioning_uri(found.user, key, issuer)),
                           key_groups=_grouped(key), role=found.user.role.value, error=error,
                           next=request.values.get("next", "")), status


@bp.get("/second-factor/setup")
@transactional
def totp_setup() -> Response | tuple[str, int]:
    found = _session()
    if totp.enrolled(found.user):
        return redirect(url_for("console.second_factor", next=request.args.get("next") or None), 303)
    return _setup_page(found)


@bp.post("/second-factor/setup")
@transactional
def totp_setup_post() -> Response | tuple[str, int]:
    found = _session()
    auth.check_csrf()
    if totp.enrolled(found.user):
        return redirect(url_for("console.second_factor"), 303)
    codes = totp.confirm_enrolment(found.user, request.form.get("code", "")[:64])
    if codes is None:
        return _setup_page(found, 422, "That code is not right. Type the 6 digits the app shows now "
                                       "(check the time on your phone is set automatically).")
    console_sessions.mark_verified(found.session_id)
    return render_template("console/totp_recovery.html", codes=codes, next=_next()), 200
