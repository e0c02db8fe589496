"""The message builder and the SMTP sender against the real aiosmtpd sink."""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from typing import Any

import pytest
from flask import Flask

from membership.mail.message import build_message, message_id_for, to_bytes
from membership.mail.smtp import PermanentFailure, SmtpSender, SmtpTarget, TemporaryFailure


def _parse(data: bytes) -> EmailMessage:
    msg = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def test_message_id_is_deterministic_and_domain_comes_from_mail_from(app: Flask) -> None:
    with app.app_context():
        first = message_id_for("renewal_notice", "sub_1:1700000000")
        assert first == message_id_for("renewal_notice", "sub_1:1700000000")
        assert first != message_id_for("renewal_notice", "sub_1:1700000001")
        # PUBLIC_URL is http://localhost in tests, so MAIL_FROM's domain names the sender.
        assert first.startswith("<renewal_notice.") and first.endswith("@demo-gazette.example>")
        assert len(first.split(".")[1].split("@")[0]) == 24


def test_build_message_headers_alternatives_and_inlined_css(app: Flask) -> None:
    with app.app_context():
        msg = build_message(
            to="reader@example.org", subject="Hello\r\nBcc: evil@example.org", text="Plain body ✓",
            html="<html><head><style>p { color: red }</style></head><body><p>Hi</p></body></html>",
            message_id="<x.1@demo-gazette.example>", headers={"List-Id": "<news.example>"},
        )
        wire = to_bytes(msg)
    assert b"\r\n" in wire and b"\n" not in wire.replace(b"\r\n", b"")
    parsed = _parse(wire)
    assert parsed["Subject"] == "Hello Bcc: evil@example.org" and parsed["Bcc"] is None
    assert parsed["From"].addresses[0].display_name == "The Demo Gazette"
    assert parsed["From"].addresses[0].addr_spec == "members@demo-gazette.example"
    assert parsed["Message-ID"] == "<x.1@demo-gazette.example>"
    assert parsedate_to_datetime(parsed["Date"]).tzinfo is not None
    assert parsed["List-Id"] == "<news.example>"
    assert parsed.get_content_type() == "multipart/alternative"
    text_part = parsed.get_body(("plain",))
    html_part = parsed.get_body(("html",))
    assert text_part is not None and "Plain body ✓" in text_part.get_content()
    assert html_part is not None and 'style="color: red' in html_part.get_content()


def test_text_only_message_is_single_part(app: Flask) -> None:
    with app.app_context():
        msg = build_message(to="a@example.org", subject="s", text="t", message_id="<a.1@x.example>")
    assert _parse(to_bytes(msg)).get_content_type() == "text/plain"


def test_smtp_url_parsing() -> None:
    t = SmtpTarget.parse("smtp://us%40er:p%3Ass@relay.example:587?starttls=true")
    assert (t.host, t.port, t.username, t.password, t.starttls, t.implicit_tls) == (
        "relay.example", 587, "us@er", "p:ss", "opportunistic", False)
    s = SmtpTarget.parse("smtps://relay.example")
    assert (s.port, s.implicit_tls, s.starttls) == (465, True, "no")
    assert SmtpTarget.parse("smtp://h?starttls=required").starttls == "required"
    with pytest.raises(ValueError):
        SmtpTarget.parse("http://relay.example")


def _wire(app: Flask, to: str, n: int) -> bytes:
    with app.app_context():
        return to_bytes(build_message(to=to, subject=f"m{n}", text="x", message_id=f"<m.{n}@x.example>"))


def test_sender_reuses_one_connection_and_classifies_replies(
    app: Flask, app_settings: dict[str, Any], mailbox: Any
) -> None:
    mailbox.fail_rcpt["soft@example.org"] = "450 4.2.1 mailbox busy, try later"
    mailbox.fail_rcpt["hard@example.org"] = "550 5.1.1 no such user"
    with SmtpSender(app_settings["smtp_url"]) as sender:
        sender.send("bounce@x.example", "ok@example.org", _wire(app, "ok@example.org", 1))
        conn = sender._conn
        with pytest.raises(TemporaryFailure) as soft:
            sender.send("bounce@x.example", "soft@example.org", _wire(app, "soft@example.org", 2))
        with pytest.raises(PermanentFailure) as hard:
            sender.send("bounce@x.example", "hard@example.org", _wire(app, "hard@example.org", 3))
        sender.send("bounce@x.example", "ok2@example.org", _wire(app, "ok2@example.org", 4))
        assert sender._conn is conn  # refusals reset the transaction, not the connection
    assert soft.value.code == 450 and hard.value.code == 550
    assert [m.rcpt_tos for m in mailbox.messages] == [["ok@example.org"], ["ok2@example.org"]]
    assert _parse(mailbox.messages[0].data)["Message-ID"] == "<m.1@x.example>"


def test_sender_reconnects_once_after_the_server_drops_the_connection(
    app: Flask, app_settings: dict[str, Any], mailbox: Any
) -> None:
    with SmtpSender(app_settings["smtp_url"]) as sender:
        sender.send("b@x.example", "a@example.org", _wire(app, "a@example.org", 1))
        assert sender._conn is not None
        sender._conn.sock.close()  # the server (or a NAT) dropped us between chunks
        sender.send("b@x.example", "b@example.org", _wire(app, "b@example.org", 2))
    assert len(mailbox.messages) == 2


def test_unreachable_server_is_a_temporary_failure(app: Flask) -> None:
    from tests.conftest import free_port

    with SmtpSender(f"smtp://127.0.0.1:{free_port()}", timeout=2) as sender, pytest.raises(TemporaryFailure):
        sender.send("b@x.example", "a@example.org", _wire(app, "a@example.org", 1))
