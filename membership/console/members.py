"""Members (support and admin act; finance reads): search, a member's page, and the
actions on it (membership/console/members_actions.py).

Each action is one unit of work. Bad input or a refusal (an amount too large, an ended
subscription, Stripe saying no) re-renders the member's page with the message next to
the forms and changes nothing; success redirects back (303) with what happened.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable

from flask import render_template, request, url_for
from werkzeug.wrappers import Response

from membership.console import members_actions as actions
from membership.console.acting import act
from membership.console.auth import console_page, staff
from membership.console.blueprint import bp
from membership.console.members_data import member_page, reader_or_404
from membership.console.members_search import search
from membership.identity.models import Reader
from membership.money import format_money
from membership.staff.models import StaffUser
from membership.staff.roles import allows

ACTIONS = ("payments:refund", "subscriptions:cancel", "comps:write", "receipts:resend", "links:resend",
           "readers:erase")


@bp.get("/members")
@console_page("members:read")
def members() -> str:
    query = request.args.get("q", "")[:200]
    found = search(query) if query.strip() else None
    return render_template("console/members.html", q=query, found=found,
                           can_import=allows(staff().role, "members:import"))


def _member(reader_id: int, error: str | None = None, status: int = 200, form: str = "") -> tuple[str, int]:
    page = member_page(reader_id)
    role = staff().role
    return render_template("console/member.html", m=page, error=error, error_form=form,
                           can={p: allows(role, p) for p in ACTIONS}, request_id=secrets.token_urlsafe(18),
                           form=request.form if error else {}), status


@bp.get("/members/<int:reader_id>")
@console_page("members:read")
def member(reader_id: int) -> tuple[str, int]:
    return _member(reader_id)


Action = Callable[[Reader, StaffUser], str]


def _act(reader_id: int, form: str, action: Action) -> Response | tuple[str, int]:
    return act(lambda: action(reader_or_404(reader_id), staff()),
               lambda detail, status: _member(reader_id, error=detail, status=status, form=form),
               url_for("console.member", reader_id=reader_id) + f"#{form}")


@bp.post("/members/<int:reader_id>/payments/<int:payment_id>/refund")
@console_page("payments:refund")
def refund(reader_id: int, payment_id: int) -> Response | tuple[str, int]:
    def run(reader: Reader, user: StaffUser) -> str:
        req = actions.request_id(request.form.get("request_id"))
        payment = actions.payment_of(reader, payment_id)
        row = next(p for p in member_page(reader.id).payments if p.payment.id == payment.id)
        amount = actions.refund_amount(request.form.get("amount", ""), payment, row.refundable_minor)
        done = actions.refund(user, payment, amount, request.form.get("reason", ""), req)
        return (f"Refund of {format_money(done.amount, done.currency)} sent to Stripe ({done.id}, {done.status}). "
                "The ledger and this page show it once Stripe's webhook arrives.")

    return _act(reader_id, f"payment-{payment_id}", run)


@bp.post("/members/<int:reader_id>/subscriptions/<int:subscription_id>/cancel")
@console_page("subscriptions:cancel")
def cancel(reader_id: int, subscription_id: int) -> Response | tuple[str, int]:
    def run(reader: Reader, user: StaffUser) -> str:
        req = actions.request_id(request.form.get("request_id"))
        when = request.form.get("when", "")
        sub = actions.cancel(user, actions.subscription_of(reader, subscription_id), when, req)
        if when == "now":
            return f"Subscription {sub.stripe_subscription_id} is cancelled now ({sub.status.value})."
        return f"Subscription {sub.stripe_subscription_id} ends at the end of its period and will not renew."

    return _act(reader_id, f"subscription-{subscription_id}", run)


@bp.post("/members/<int:reader_id>/comps")
@console_page("comps:write")
def grant_comp(reader_id: int) -> Response | tuple[str, int]:
    def run(reader: Reader, user: StaffUser) -> str:
        comp = actions.grant_comp(user, reader, request.form.get("plan", ""), request.form.get("days", ""),
                                  request.form.get("reason", ""))
        return f"Complimentary membership granted until {comp.expires_at:%d %B %Y}."

    return _act(reader_id, "comps", run)


@bp.post("/members/<int:reader_id>/comps/<int:comp_id>/extend")
@console_page("comps:write")
def extend_comp(reader_id: int, comp_id: int) -> Response | tuple[str, int]:
    def run(reader: Reader, user: StaffUser) -> str:
        comp = actions.extend_comp(user, reader, comp_id, request.form.get("days", ""))
        return f"Complimentary membership extended until {comp.expires_at:%d %B %Y}."

    return _act(reader_id, "comps", run)


@bp.post("/members/<int:reader_id>/payments/<int:payment_id>/receipt")
@console_page("receipts:resend")
def resend_receipt(reader_id: int, payment_id: int) -> Response | tuple[str, int]:
    def run(reader: Reader, user: StaffUser) -> str:
        req = actions.request_id(request.form.get("request_id"))
        actions.resend_receipt(reader, actions.payment_of(reader, payment_id), req)
        return f"The receipt is on its way to {reader.email}."

    return _act(reader_id, f"payment-{payment_id}", run)


@bp.post("/members/<int:reader_id>/signin-link")
@console_page("links:resend")
def resend_link(reader_id: int) -> Response | tuple[str, int]:
    def run(reader: Reader, user: StaffUser) -> str:
        actions.resend_sign_in_link(reader)
        return f"A sign-in link is on its way to {reader.email}."

    return _act(reader_id, "actions", run)


@bp.post("/members/<int:reader_id>/erase")
@console_page("readers:erase")
def erase(reader_id: int) -> Response | tuple[str, int]:
    def run(reader: Reader, user: StaffUser) -> str:
        actions.erase(user, reader, request.form.get("confirm_email", ""))
        return "The reader's personal data is erased, here and at Stripe."

    return _act(reader_id, "erase", run)
