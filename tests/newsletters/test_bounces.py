"""Bounces and complaints: DSN files, the provider webhook and the CLI all suppress hard ones."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from membership.extensions import db
from membership.mail.models import BounceEvent, Suppression, SuppressionReason
from membership.newsletters.bounces import COMPLAINT, HARD, SOFT, classify, parse_dsn

DSN = """\
From: Mail Delivery System <MAILER-DAEMON@mx.example.net>
To: members@demo-gazette.example
Subject: Undelivered Mail Returned to Sender
Date: Mon, 23 Nov 2026 10:00:00 +0000
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B1"

--B1
Content-Type: text/plain

Your message could not be delivered.

--B1
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.net
Arrival-Date: Mon, 23 Nov 2026 09:59:58 +0000

Final-Recipient: rfc822; Gone@Example.org
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 user unknown

Final-Recipient: rfc822; full@example.org
Action: delayed
Status: 4.2.2
Diagnostic-Code: smtp; 452 4.2.2 mailbox full

--B1
Content-Type: text/rfc822-headers

Message-ID: <newsletter.abc@demo-gazette.example>
To: gone@example.org

--B1--
"""

ARF = """\
From: fbl@isp.example
To: members@demo-gazette.example
Date: Mon, 23 Nov 2026 11:00:00 +0000
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report; boundary="B2"

--B2
Content-Type: text/plain

This is an abuse report.

--B2
Content-Type: message/feedback-report

Feedback-Type: abuse
User-Agent: isp-fbl/1.0
Version: 1
Original-Rcpt-To: <angry@example.org>

--B2
Content-Type: text/rfc822-headers

Message-ID: <newsletter.def@demo-gazette.example>
To: angry@example.org

--B2--
"""


def _crlf(text: str) -> bytes:
    return text.replace("\n", "\r\n").encode()


def _suppressed() -> dict[str, SuppressionReason]:
    return {s.email: s.reason for s in db.session.query(Suppression)}


def test_classify() -> None:
    assert classify("5.1.1", "failed") == HARD
    assert classify("4.4.7", "delayed") == SOFT
    assert classify(None, "failed") == HARD
    assert classify("2.0.0", "delivered") is None


def test_dsn_and_arf_parsing() -> None:
    events = parse_dsn(_crlf(DSN))
    assert [(e.email, e.kind, e.status_code) for e in events] == [
        ("gone@example.org", HARD, "5.1.1"), ("full@example.org", SOFT, "4.2.2")]
    assert events[0].message_id == "<newsletter.abc@demo-gazette.example>"
    assert events[0].reported_at is not None and events[0].reported_at.minute == 59
    (complaint,) = parse_dsn(_crlf(ARF))
    assert (complaint.email, complaint.kind) == ("angry@example.org", COMPLAINT)
    assert parse_dsn(b"Subject: out of office\r\n\r\nI am away.\r\n") == []


def test_cli_imports_a_dsn_directory_and_a_csv(app: Any, db_session: Any, tmp_path: Path) -> None:
    folder = tmp_path / "dsn"
    folder.mkdir()
    (folder / "1.eml").write_bytes(_crlf(DSN))
    (folder / "2.eml").write_bytes(_crlf(ARF))
    runner = app.test_cli_runner()
    result = runner.invoke(args=["mail", "import-bounces", str(folder)])
    assert result.exit_code == 0, result.output
    assert "imported 3 events" in result.output
    assert _suppressed() == {"gone@example.org": SuppressionReason.HARD_BOUNCE,
                             "angry@example.org": SuppressionReason.COMPLAINT}
    again = runner.invoke(args=["mail", "import-bounces", str(folder)])
    assert "imported 0 events (3 already known)" in again.output  # idempotent

    csv_file = tmp_path / "bounces.csv"
    csv_file.write_text("email,type,status,timestamp\nsoft@example.org,bounce,4.2.2,1700000000\n"
                        "hard@example.org,bounce,5.1.1,1700000000\n,bounce,5.1.1,\n")
    result = runner.invoke(args=["mail", "import-bounces", str(csv_file)])
    assert result.exit_code == 0, result.output
    assert "hard@example.org" in _suppressed() and "soft@example.org" not in _suppressed()
    assert db.session.query(BounceEvent).filter_by(email="soft@example.org", kind=SOFT).count() == 1
    bad = tmp_path / "x.txt"
    bad.write_text("nope")
    assert runner.invoke(args=["mail", "import-bounces", str(bad)]).exit_code != 0


@pytest.fixture
def events_secret(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("MAIL_EVENTS_SECRET", "mail-events-test-secret")
    return "mail-events-test-secret"


def test_webhook_needs_the_secret_and_suppresses(client: Any, events_secret: str) -> None:
    body = {"events": [
        {"type": "bounce", "bounce_type": "hard", "email": "Dead@Example.org", "status": "5.1.1",
         "timestamp": "2026-11-23T10:00:00Z"},
        {"type": "bounce", "bounce_type": "soft", "email": "busy@example.org", "timestamp": 1700000000},
        {"type": "complaint", "email": "spam@example.org", "timestamp": 1700000001},
        {"type": "delivered", "email": "fine@example.org"},
    ]}
    assert client.post("/webhooks/mail-events", json=body).status_code == 401
    wrong = client.post("/webhooks/mail-events", json=body, headers={"X-Mail-Events-Secret": "nope"})
    assert wrong.status_code == 401 and _suppressed() == {}
    ok = client.post("/webhooks/mail-events", json=body, headers={"X-Mail-Events-Secret": events_secret})
    assert ok.status_code == 200 and ok.get_json()["events"] == 3
    assert _suppressed() == {"dead@example.org": SuppressionReason.HARD_BOUNCE,
                             "spam@example.org": SuppressionReason.COMPLAINT}
    bad = client.post("/webhooks/mail-events", json={"events": "x"}, headers={"X-Mail-Events-Secret": events_secret})
    assert bad.status_code == 422


def test_webhook_is_off_without_a_secret(client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MAIL_EVENTS_SECRET", raising=False)
    assert client.post("/webhooks/mail-events", json=[], headers={"X-Mail-Events-Secret": ""}).status_code == 503


def test_mailbox_reader_imports_new_messages_once(db_session: Any, tmp_path: Path) -> None:
    from membership.newsletters.bounces import read_mailbox

    (tmp_path / "new").mkdir()
    (tmp_path / "new" / "1700000000.dsn").write_bytes(_crlf(DSN))
    (tmp_path / "new" / "1700000001.arf").write_bytes(_crlf(ARF))
    counts = read_mailbox(tmp_path)
    assert counts["files"] == 2 and counts["events"] == 3 and counts["suppressed"] == 2
    assert sorted(p.name for p in (tmp_path / "cur").iterdir()) == ["1700000000.dsn", "1700000001.arf"]
    assert read_mailbox(tmp_path)["files"] == 0  # moved: read once
    assert set(_suppressed()) == {"gone@example.org", "angry@example.org"}
