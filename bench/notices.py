"""Benchmark transactional notices: render + build, and the full send path.

Runs on the embedded default (a temporary SQLite file, no Redis needed) against an
aiosmtpd sink on loopback in this process. Phases (each bounded by --count):
  1. render + build: receipt notices rendered from the database and built into MIME
     bytes (templates, CSS inlining, headers), no SMTP;
  2. send: `send_notice` for each row over one kept-open SMTP connection (claim, render,
     store the evidence, send, mark sent: two commits per notice).
The last line printed is one JSON object.

    .venv/bin/python bench/notices.py [--count 300]
"""

from __future__ import annotations

import argparse
import json
import socket
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def seed(count: int) -> list[int]:
    """One reader, payment and receipt notice per row (flushed in one transaction)."""
    from membership.billing.models import Payment
    from membership.db import utcnow
    from membership.enums import Stream
    from membership.extensions import db
    from membership.identity.models import Reader
    from membership.mail.models import Notice

    ids = []
    for i in range(count):
        reader = Reader(email=f"bench{i}@example.org", name=f"Reader {i}")
        db.session.add(reader)
        db.session.flush()
        pay = Payment(reader_id=reader.id, stripe_charge_id=f"ch_b{i}", balance_transaction_id=f"txn_b{i}",
                      stream=Stream.MEMBERSHIP, gross_minor=1200, fee_minor=65, net_minor=1135, currency="USD",
                      benefit_value_minor=200, paid_at=utcnow())
        db.session.add(pay)
        db.session.flush()
        notice = Notice(kind="payment_receipt", dedupe_key=pay.stripe_charge_id, email=reader.email,
                        context=json.dumps({"payment_id": pay.id}), reader_id=reader.id, due_at=utcnow())
        db.session.add(notice)
        db.session.flush()
        ids.append(notice.id)
    db.session.commit()
    return ids


def run(count: int, workdir: Path) -> dict[str, Any]:
    from flask_migrate import upgrade

    from membership import create_app
    from membership.extensions import db
    from membership.mail.message import build_message, inline_html, message_id_for, to_bytes
    from membership.mail.models import Notice
    from membership.mail.render import render_notice
    from membership.mail.sending import send_notice
    from membership.mail.sink import MemorySink, start_sink
    from membership.mail.smtp import SmtpSender

    port = free_port()
    app = create_app(mode="test", database_url=f"sqlite:///{workdir / 'bench.db'}",
                     broker_url=f"sqla+sqlite:///{workdir / 'broker.db'}", redis_url=None,
                     smtp_url=f"smtp://127.0.0.1:{port}")
    sink = MemorySink()
    controller = start_sink(sink, port)
    try:
        with app.app_context():
            upgrade()
            settings = replace(app.config["SETTINGS"])
            ids = seed(count)
            started = time.perf_counter()
            size = 0
            for notice in db.session.query(Notice).order_by(Notice.id):
                copy = render_notice(notice, settings)
                msg = build_message(to=notice.email, subject=copy.subject, text=copy.text,
                                    html=inline_html(copy.html), message_id=message_id_for(notice.kind, notice.dedupe_key),
                                    inline_css=False)
                size += len(to_bytes(msg))
            build_s = time.perf_counter() - started
            started = time.perf_counter()
            with SmtpSender(settings.smtp_url) as sender:
                outcomes = [send_notice(i, settings, sender).value for i in ids]
            send_s = time.perf_counter() - started
            db.session.remove()
            db.engine.dispose()
    finally:
        controller.stop()
    return {
        "bench": "notices", "count": count, "database": "sqlite",
        "render_build_per_s": round(count / build_s, 1), "avg_message_bytes": size // max(count, 1),
        "send_per_s": round(count / send_s, 1), "sent": outcomes.count("sent"),
        "received": len(sink.messages),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=300)
    args = parser.parse_args()
    count = max(1, min(args.count, 5000))
    with tempfile.TemporaryDirectory() as tmp:
        result = run(count, Path(tmp))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
