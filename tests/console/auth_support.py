"""Shared steps of the console auth tests: the sign-in link a staff member was mailed
(read from the notice's sealed context, as the worker would), CSRF tokens, enrolment."""

from __future__ import annotations

import json
import re

import pyotp
from flask.testing import FlaskClient
from sqlalchemy import select

from membership.extensions import db
from membership.mail.models import Notice
from membership.mail.secrets import unseal
from membership.staff import totp
from membership.staff.models import StaffUser
from tests.console.helpers import CSRF_KEY

SETUP_KEY = re.compile(r'<code id="setup-key">([A-Z2-7 ]+)</code>')


def csrf(client: FlaskClient) -> str:
    """The console CSRF token of the client's session (minted by any console page)."""
    with client.session_transaction() as session:
        token = session.get(CSRF_KEY)
    if not isinstance(token, str):
        client.get("/staff")
        with client.session_transaction() as session:
            token = session[CSRF_KEY]
    return str(token)


def mailed_links(email: str) -> list[str]:
    rows = db.session.scalars(select(Notice).where(Notice.email == email, Notice.kind == "magic_link")
                              .order_by(Notice.id))
    return [unseal(json.loads(n.context))["link"] for n in rows]


def request_link(client: FlaskClient, email: str) -> str:
    """Ask for a link at /staff and return the path of the one mailed."""
    resp = client.post("/staff/signin", data={"email": email, "csrf_token": csrf(client)})
    assert resp.status_code == 202, resp.get_data(as_text=True)
    link = mailed_links(email)[-1]
    return link[link.index("/staff/signin/"):]


def sign_in_by_link(client: FlaskClient, email: str) -> str:
    """The whole mailed-link sign-in; returns where it sent the browser."""
    path = request_link(client, email)
    resp = client.post(path, data={"csrf_token": csrf(client)})
    assert resp.status_code == 303, resp.get_data(as_text=True)
    return str(resp.headers["Location"])


def setup_key(html: str) -> str:
    found = SETUP_KEY.search(html)
    assert found, "no Setup key on the page"
    return found.group(1).replace(" ", "")


def enrolled(user: StaffUser) -> tuple[pyotp.TOTP, list[str]]:
    """Enrol the user's second factor directly (service level); its TOTP and recovery codes."""
    secret = totp.pending_secret(user)
    app = pyotp.TOTP(secret)
    codes = totp.confirm_enrolment(user, app.now())
    assert codes is not None
    db.session.commit()
    return app, codes
