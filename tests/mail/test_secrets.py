"""Secrets in notice rows are sealed until the send: links and gift codes never sit in the
clear in `notices` (context or stored copy), yet the mail carries them, and a key
rotation through SECRET_KEY_FALLBACKS keeps pending notices readable."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from membership.mail.models import Notice, NoticeStatus
from membership.mail.notices import record_notice
from membership.mail.secrets import PREFIX, SecretUnreadable, reveal, seal, unseal
from membership.mail.sending import Outcome, send_notice
from tests.mail.conftest import bodies, parse
from tests.readers.helpers import new_client, sign_up_and_confirm, token_of, unique_email


def _row_text(notice: Notice) -> str:
    return " ".join(str(getattr(notice, c.key)) for c in notice.__mapper__.column_attrs)


@pytest.fixture
def rotated(app: Flask) -> Iterator[str]:
    """Yields the old key; the app runs on a new one with the old as a fallback."""
    old, fallbacks = app.config["SECRET_KEY"], app.config.get("SECRET_KEY_FALLBACKS")
    app.config["SECRET_KEY"], app.config["SECRET_KEY_FALLBACKS"] = "a-new-key-" + "x" * 40, [old]
    try:
        yield old
    finally:
        app.config["SECRET_KEY"], app.config["SECRET_KEY_FALLBACKS"] = old, fallbacks


def test_sign_in_and_confirm_links_are_sealed_in_the_row(app: Flask, db_session: Any) -> None:
    from membership.demo import seed_catalogue

    seed_catalogue()
    client = new_client(app)
    email = unique_email()
    sign_up_and_confirm(client, email)
    assert new_client(app).post("/api/signin", json={"email": email}).status_code == 202
    rows = list(db_session.scalars(select(Notice).where(Notice.email == email,
                                                        Notice.kind.in_(["magic_link", "confirm_signup"]))))
    assert {n.kind for n in rows} == {"magic_link", "confirm_signup"}
    for notice in rows:
        token = token_of(reveal(notice.context, "link"))
        assert len(token) >= 40
        assert token not in _row_text(notice)
        assert json.loads(notice.context)["link"].startswith(PREFIX)


def test_sealed_until_the_send_and_redacted_after(app: Flask, db_session: Any, mailbox: Any) -> None:
    link = "http://localhost/signin/SEALEDTOKEN0123456789"
    notice, _ = record_notice("magic_link", "hash-sealed", "sealed@example.org", {"link": link})
    db_session.commit()
    assert "SEALEDTOKEN" not in _row_text(notice)
    assert send_notice(notice.id, app.config["SETTINGS"]) is Outcome.SENT
    text, html = bodies(parse(mailbox.messages[0].data))
    assert link in text and link in html
    db_session.refresh(notice)
    assert notice.status is NoticeStatus.SENT and "SEALEDTOKEN" not in _row_text(notice)
    assert json.loads(notice.context) == {"link": "[redacted]"}


def test_gift_codes_are_sealed_too(db_session: Any) -> None:
    notice, _ = record_notice("gift_delivered", "gift:sealed", "giver@example.org",
                              {"gift_id": 1, "code": "GIFT-SEAL-CODE-XYZ1"})
    assert "GIFT-SEAL-CODE" not in _row_text(notice)
    assert reveal(notice.context, "code") == "GIFT-SEAL-CODE-XYZ1"
    assert json.loads(notice.context)["gift_id"] == 1  # ids stay readable


def test_deferred_send_keeps_the_link_out_of_the_evidence(app: Flask, db_session: Any, mailbox: Any) -> None:
    from membership.mail.smtp import TemporaryFailure

    mailbox.fail_rcpt["busy2@example.org"] = "451 4.3.0 mailbox busy"
    notice, _ = record_notice("confirm_signup", "hash-defer", "busy2@example.org",
                              {"link": "http://localhost/confirm/DEFERREDTOKEN42"})
    db_session.commit()
    with pytest.raises(TemporaryFailure):
        send_notice(notice.id, app.config["SETTINGS"])
    db_session.refresh(notice)
    assert notice.status is NoticeStatus.PENDING and notice.body_text  # evidence stored, link not
    assert "DEFERREDTOKEN42" not in _row_text(notice)
    del mailbox.fail_rcpt["busy2@example.org"]
    assert send_notice(notice.id, app.config["SETTINGS"]) is Outcome.SENT
    assert "DEFERREDTOKEN42" in bodies(parse(mailbox.messages[-1].data))[0]


def test_rotation_keeps_pending_notices_readable(app: Flask, db_session: Any) -> None:
    with app.app_context():
        sealed = seal({"link": "http://localhost/signin/ROTATE"})
    old, fallbacks = app.config["SECRET_KEY"], app.config.get("SECRET_KEY_FALLBACKS")
    app.config["SECRET_KEY"] = "a-new-key-" + "y" * 40
    try:
        with pytest.raises(SecretUnreadable):
            unseal(sealed)
        app.config["SECRET_KEY_FALLBACKS"] = [old]
        assert unseal(sealed)["link"].endswith("/ROTATE")
        assert seal({"link": "x"})["link"] != seal({"link": "x"})["link"]  # fresh IV each time
    finally:
        app.config["SECRET_KEY"], app.config["SECRET_KEY_FALLBACKS"] = old, fallbacks


def test_unreadable_secret_fails_the_notice_without_mailing(app: Flask, db_session: Any, mailbox: Any,
                                                           rotated: str) -> None:
    app.config["SECRET_KEY_FALLBACKS"] = []  # the old key dropped too early
    notice, _ = record_notice("magic_link", "hash-lost", "lost@example.org", {"link": "x"})
    notice.context = json.dumps({"link": PREFIX + "not-a-fernet-token"})
    db_session.commit()
    assert send_notice(notice.id, app.config["SETTINGS"]) is Outcome.FAILED
    db_session.refresh(notice)
    assert "cannot render" in (notice.last_error or "") and mailbox.messages == []
