"""Bounces and complaints from three sources, one outcome.

Sources: DSNs (RFC 3464 `multipart/report; report-type=delivery-status`, plus ARF
complaint reports) read from .eml files, a provider-style JSON webhook, and CSV
exports. Outcome: every event is kept once as a BounceEvent; a hard bounce (5.x.x,
Action: failed) or a complaint suppresses the address for all mail; a soft bounce
(4.x.x, delayed) is only counted.
"""

from __future__ import annotations

import csv
import email
import email.policy
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import Message
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from membership.db import utcnow
from membership.errors import InvalidInput
from membership.extensions import db
from membership.mail.models import BounceEvent, Suppression, SuppressionReason

HARD, SOFT, COMPLAINT = "hard_bounce", "soft_bounce", "complaint"
KINDS = (HARD, SOFT, COMPLAINT)
_STATUS = re.compile(r"\b([245])\.\d{1,3}\.\d{1,3}\b")


@dataclass(frozen=True)
class MailEvent:
    email: str
    kind: str
    status_code: str | None = None
    diagnostic: str | None = None
    message_id: str | None = None
    reported_at: datetime | None = None


def _address(value: str | None) -> str | None:
    """'rfc822; Foo@Example.org' or '<foo@example.org>' -> 'foo@example.org'."""
    if not value:
        return None
    value = str(value).split(";", 1)[-1].strip().strip("<>").strip().lower()
    return value if "@" in value and " " not in value else None


def _when(value: Any) -> datetime | None:
    if value in (None, ""):
        return None
    try:
        if isinstance(value, int | float) or str(value).isdigit():
            return datetime.fromtimestamp(float(value), UTC)
        text = str(value)
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00")) if "T" in text or "-" in text[:5] \
            else parsedate_to_datetime(text)
    except (ValueError, TypeError, OverflowError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def classify(status: str | None, action: str | None = None) -> str | None:
    """Hard when the status is 5.x.x (or the action failed without a status); soft on 4.x.x."""
    match = _STATUS.search(status or "")
    action = (action or "").strip().lower()
    if action in ("delivered", "relayed", "expanded"):
        return None
    if match:
        return {"5": HARD, "4": SOFT}.get(match.group(1))
    if action == "failed":
        return HARD
    return SOFT if action == "delayed" else None


# --- DSN / ARF ----------------------------------------------------------------------------

def _blocks(part: Message) -> list[Message]:
    """A message/* part's payload as header blocks (the parser gives a list, or text)."""
    payload: Any = part.get_payload()
    if isinstance(payload, list):
        return [p for p in payload if isinstance(p, Message)]
    return [email.message_from_string(str(payload))] if payload else []


def _original_message_id(report: Message) -> str | None:
    for part in report.walk():
        if part.get_content_type() in ("text/rfc822-headers", "message/rfc822"):
            blocks = _blocks(part)
            return str(blocks[0].get("Message-ID") or "") or None if blocks else None
    return None


def parse_dsn(data: bytes) -> list[MailEvent]:
    """Events in one DSN or ARF message; [] when it is neither (an auto-reply, say)."""
    msg = email.message_from_bytes(data, policy=email.policy.compat32)
    if msg.get_content_type() != "multipart/report":
        return []
    reported = _when(msg.get("Date")) or utcnow()
    message_id = _original_message_id(msg)
    report_type = str(msg.get_param("report-type") or "").lower()
    events: list[MailEvent] = []
    for part in msg.walk():
        ctype = part.get_content_type()
        if ctype == "message/delivery-status" and report_type in ("", "delivery-status"):
            events.extend(_dsn_fields(part, reported, message_id))
        elif ctype == "message/feedback-report":
            events.extend(_arf_fields(part, msg, reported, message_id))
    return events


def _dsn_fields(part: Message, reported: datetime, message_id: str | None) -> Iterable[MailEvent]:
    blocks = _blocks(part)
    if len(blocks) < 2:
        return []
    arrival = _when(blocks[0].get("Arrival-Date")) or reported
    events = []
    for block in blocks[1:]:
        address = _address(block.get("Final-Recipient") or block.get("Original-Recipient"))
        kind = classify(block.get("Status"), block.get("Action"))
        if address and kind:
            status = _STATUS.search(block.get("Status") or "")
            events.append(MailEvent(address, kind, status.group(0) if status else None,
                                    (block.get("Diagnostic-Code") or "").strip() or None, message_id, arrival))
    return events


def _arf_fields(part: Message, msg: Message, reported: datetime, message_id: str | None) -> list[MailEvent]:
    blocks = _blocks(part)
    if not blocks:
        return []
    fields = blocks[0]
    address = _address(fields.get("Original-Rcpt-To"))
    if address is None:
        for sub in msg.walk():
            if sub.get_content_type() in ("message/rfc822", "text/rfc822-headers"):
                heads = _blocks(sub)
                address = _address(heads[0].get("To")) if heads else None
                break
    if address is None:
        return []
    when = _when(fields.get("Arrival-Date") or fields.get("Received-Date")) or reported
    return [MailEvent(address, COMPLAINT, None, fields.get("Feedback-Type"), message_id, when)]


def read_eml_dir(path: Path) -> list[MailEvent]:
    files = [path] if path.is_file() else sorted(path.glob("*.eml"))
    events: list[MailEvent] = []
    for file in files:
        events.extend(parse_dsn(file.read_bytes()))
    return events


# --- webhook JSON and CSV -----------------------------------------------------------------

def _from_record(record: dict[str, Any]) -> MailEvent | None:
    address = _address(str(record.get("email") or record.get("recipient") or ""))
    kind_raw = str(record.get("type") or record.get("event") or "").lower()
    status = str(record.get("status") or record.get("status_code") or "") or None
    if kind_raw in ("complaint", "spam", "spamreport", "abuse"):
        kind: str | None = COMPLAINT
    elif kind_raw in ("hard_bounce", "soft_bounce"):
        kind = kind_raw
    elif kind_raw in ("bounce", "bounced", "failed", "dropped", "deferred", "delayed"):
        hint = str(record.get("bounce_type") or record.get("severity") or "").lower()
        kind = HARD if hint in ("hard", "permanent") else SOFT if hint in ("soft", "transient", "temporary") \
            else classify(status, "delayed" if kind_raw in ("deferred", "delayed") else "failed")
    else:
        kind = None  # delivered, opened, ...: not ours to act on
    if address is None or kind is None:
        return None
    return MailEvent(address, kind, status, record.get("diagnostic") or record.get("reason"),
                     record.get("message_id"), _when(record.get("timestamp") or record.get("reported_at")))


def parse_webhook(payload: Any) -> list[MailEvent]:
    records = payload.get("events") if isinstance(payload, dict) and "events" in payload else payload
    if isinstance(records, dict):
        records = [records]
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise InvalidInput("expected an event object, a list of them, or {\"events\": [...]}")
    return [e for e in (_from_record(r) for r in records) if e is not None]


def parse_csv(text: str) -> list[MailEvent]:
    """Columns (header row): email, type, and optionally status, diagnostic, timestamp, message_id."""
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames or "email" not in [f.strip().lower() for f in reader.fieldnames]:
        raise InvalidInput("the CSV needs a header row with at least 'email' and 'type'")
    rows = [{(k or "").strip().lower(): (v or "").strip() for k, v in row.items()} for row in reader]
    return [e for e in (_from_record(r) for r in rows) if e is not None]


# --- outcome ------------------------------------------------------------------------------

def _insert(model: type[Any]) -> Any:
    return (pg_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert)(model)


def suppress(address: str, reason: SuppressionReason, source: str) -> bool:
    """Add the address to the suppression list once; True when it was new. Flushes only."""
    stmt = _insert(Suppression).values(email=address.lower(), reason=reason, source=source[:64],
                                       created_at=utcnow()).on_conflict_do_nothing(index_elements=["email"]).execution_options(preserve_rowcount=True)
    return bool(db.session.execute(stmt).rowcount == 1)  # type: ignore[attr-defined]


def record_events(events: Iterable[MailEvent], source: str) -> dict[str, int]:
    """Keep each event once; suppress on hard bounce or complaint. Returns counts."""
    counts = {"events": 0, "duplicates": 0, "suppressed": 0}
    for event in events:
        stmt = _insert(BounceEvent).values(
            email=event.email, kind=event.kind, status_code=event.status_code,
            diagnostic=(event.diagnostic or None) and str(event.diagnostic)[:2000],
            message_id=event.message_id, reported_at=event.reported_at or utcnow(), created_at=utcnow(),
        ).on_conflict_do_nothing(index_elements=["email", "kind", "reported_at"]).execution_options(
            preserve_rowcount=True)
        if db.session.execute(stmt).rowcount == 1:  # type: ignore[attr-defined]
            counts["events"] += 1
        else:
            counts["duplicates"] += 1
        if event.kind in (HARD, COMPLAINT):
            reason = SuppressionReason.HARD_BOUNCE if event.kind == HARD else SuppressionReason.COMPLAINT
            counts["suppressed"] += int(suppress(event.email, reason, source))
    return counts


def import_path(path: Path) -> dict[str, int]:
    """The CLI's input: a .csv file, a .json file, an .eml file or a directory of .eml files."""
    import json

    if path.is_dir() or path.suffix.lower() == ".eml":
        events = read_eml_dir(path)
    elif path.suffix.lower() == ".csv":
        events = parse_csv(path.read_text(encoding="utf-8-sig"))
    elif path.suffix.lower() == ".json":
        events = parse_webhook(json.loads(path.read_text(encoding="utf-8")))
    else:
        raise InvalidInput(f"{path}: expected a .csv, .json or .eml file, or a directory of .eml files")
    return record_events(events, source=f"import:{path.name}"[:64])


def read_mailbox(folder: Path) -> dict[str, int]:
    """The DSN mailbox reader: a Maildir-style folder the bounce address delivers into.

    Each new message (`new/*` or `*.eml` directly in the folder) is parsed and recorded,
    then moved to `cur/` so it is read once; a file that cannot be read stays put.
    Flushes only: the caller commits (before the moves become visible to a retry,
    a repeated import is harmless because events are unique).
    """
    counts = {"files": 0, "events": 0, "duplicates": 0, "suppressed": 0}
    done = folder / "cur"
    files = sorted((folder / "new").glob("*")) if (folder / "new").is_dir() else sorted(folder.glob("*.eml"))
    for file in files:
        if not file.is_file():
            continue
        try:
            events = parse_dsn(file.read_bytes())
        except OSError:
            continue
        for key, value in record_events(events, source="mailbox").items():
            counts[key] += value
        counts["files"] += 1
        done.mkdir(parents=True, exist_ok=True)
        file.replace(done / file.name)
    return counts
