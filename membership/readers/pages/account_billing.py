"""The card on file, the data export and erasure, from the account.

`Update card` opens Checkout in setup mode (nothing is charged) and comes back to
`/account/card/saved`, which makes the new card the one that pays and returns to the
account (where the new card shows). The return is a GET because Stripe sends the
browser there; it only finishes what this reader started (the session must be their
customer's) and doing it twice changes nothing more.

Erasure needs a sign-in from the last 15 minutes: otherwise a fresh link is mailed
and the page says so (nothing is erased).
"""

from __future__ import annotations

import json
import re

from flask import current_app, redirect, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.wrappers import Response

from membership.billing import card_update
from membership.billing.models import Subscription
from membership.enums import TERMINAL_SUBSCRIPTION_STATUSES
from membership.errors import NotFound
from membership.extensions import db
from membership.identity.sessions import ReauthenticationRequired, end_session, require_recent_sign_in
from membership.readers import privacy
from membership.readers.pages.account_common import reader_errors
from membership.readers.pages.blueprint import bp, message, page, signed_in
from membership.unit_of_work import transactional

_SESSION_ID = re.compile(r"cs_[A-Za-z0-9_]{1,200}")


def _currency(reader_id: int) -> str:
    live = db.session.scalar(select(Subscription.currency).where(
        Subscription.reader_id == reader_id, Subscription.status.not_in(TERMINAL_SUBSCRIPTION_STATUSES))
        .order_by(Subscription.id))
    return live or "USD"


@bp.post("/account/card")
@reader_errors
@transactional
def account_card() -> Response:
    reader = signed_in()
    back = current_app.config["SETTINGS"].public_url.rstrip("/") + "/account/card/saved"
    return redirect(card_update.start_card_update(reader, _currency(reader.id), back), 303)


@bp.get("/account/card/saved")
@reader_errors
@transactional
def account_card_saved() -> Response:
    session_id = request.args.get("session_id", "")
    if not session_id:  # the reader left the hosted page without saving: nothing changed
        return redirect(url_for(".account"), 303)
    if not _SESSION_ID.fullmatch(session_id):
        raise NotFound("No such card update.")
    card_update.finish_card_update(signed_in(), session_id)
    return redirect(url_for(".account", notice="card"), 303)


@bp.get("/account/export")
@reader_errors
def account_export() -> Response:
    """Everything we hold on the reader, as a JSON file download."""
    data = privacy.export(signed_in()).model_dump(mode="json")
    body = json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True)
    return Response(body, mimetype="application/json", headers={
        "Content-Disposition": 'attachment; filename="my-data.json"', "Cache-Control": "no-store"})


@bp.get("/account/delete")
@reader_errors
def delete_page() -> tuple[str, int]:
    return page("readers/account_delete.html", reader=signed_in())


@bp.post("/account/delete")
@reader_errors
@transactional
def account_delete() -> tuple[str, int]:
    signed_in()
    if request.form.get("confirm") != "yes":
        return page("readers/account_delete.html", 400, reader=signed_in(),
                    error=_("Tick the box to confirm that you want your data deleted."))
    try:
        reader = require_recent_sign_in()
    except ReauthenticationRequired:  # the fresh link is already committed (checkpoint)
        return message(_("Please confirm it is you"), _("Deleting your data needs a sign-in from the last 15 "
                       "minutes. We have emailed you a fresh sign-in link: open it, then come back to "
                       "this page."), 403, link="/account/delete", link_text=_("Back to deleting your data"))
    privacy.erase(reader)
    end_session()
    return message(_("Your data is deleted"), _("We removed your name, email address and preferences. We keep "
                   "the record of past payments that the law requires, with nothing that names you."),
                   signed_in=False)
