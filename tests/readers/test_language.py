"""The reader's language is stored: at sign-up from the request's language, and when a
signed-in reader switches the pages' language with ?lang=; their mail follows it."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from sqlalchemy import select

from membership.extensions import db
from membership.identity.models import Reader
from membership.mail.models import Notice
from membership.mail.render import render_notice
from tests.readers.helpers import new_client, sign_up_and_confirm, unique_email

ARMENIAN = re.compile(r"[\u0531-\u058F]")


def _sign_up(client: Any, email: str, path: str = "/api/signup", **headers: str) -> Reader:
    res = client.post(path, json={"email": email, "name": "Ani", "accept_terms": True}, headers=headers)
    assert res.status_code == 202, res.get_json()
    reader = db.session.scalar(select(Reader).where(Reader.email == email))
    assert reader is not None
    return reader


def test_sign_up_with_armenian_accept_language_stores_armenian_and_mails_in_it(app: Flask, rclient: Any) -> None:
    email = unique_email()
    reader = _sign_up(rclient, email, **{"Accept-Language": "hy-AM,hy;q=0.9,en;q=0.5"})
    assert reader.language == "hy"
    notice = db.session.scalars(select(Notice).where(Notice.reader_id == reader.id,
                                                     Notice.kind == "confirm_signup")).one()
    subject = render_notice(notice, app.config["SETTINGS"]).subject
    assert ARMENIAN.search(subject), subject


def test_sign_up_takes_lang_from_the_query_and_defaults_to_english(app: Flask, rclient: Any) -> None:
    assert _sign_up(new_client(app), unique_email(), "/api/signup?lang=hy").language == "hy"
    assert _sign_up(new_client(app), unique_email(), **{"Accept-Language": "fr-FR,de;q=0.8"}).language == "en"
    assert _sign_up(new_client(app), unique_email()).language == "en"


def test_a_reader_created_by_any_page_takes_the_page_language(app: Flask, db_session: Any) -> None:
    """Join, donate and gift create readers through their own services: the default is the
    request's language, whichever code path builds the row; outside a request, English."""
    with app.test_request_context("/join?lang=hy"):
        on_page = Reader(email=unique_email(), name="")
        db.session.add(on_page)
        db.session.flush()
    elsewhere = Reader(email=unique_email(), name="")
    db.session.add(elsewhere)
    db.session.flush()
    assert (on_page.language, elsewhere.language) == ("hy", "en")


def test_a_signed_in_reader_switching_language_is_stored_once(rclient: Any) -> None:
    out = sign_up_and_confirm(rclient)
    reader_id = out["reader_id"]

    def stored() -> str:
        db.session.expire_all()
        reader = db.session.get(Reader, reader_id)
        assert reader is not None
        return reader.language

    assert stored() == "en"
    assert rclient.get("/signin?lang=hy").status_code == 200
    assert stored() == "hy"
    assert rclient.get("/signin").status_code == 200  # no ?lang=: nothing changes
    assert stored() == "hy"
    assert rclient.get("/signin?lang=xx").status_code == 200  # a language we do not offer is ignored
    assert stored() == "hy"
    rclient.get("/signin?lang=en")
    assert stored() == "en"


def test_a_visitor_switching_language_changes_no_reader(rclient: Any, app: Flask) -> None:
    email = unique_email()
    _sign_up(rclient, email)
    anonymous = app.test_client()
    assert anonymous.get("/signin?lang=hy").status_code == 200
    db.session.expire_all()
    assert db.session.scalar(select(Reader.language).where(Reader.email == email)) == "en"
