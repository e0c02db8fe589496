"""The staff console's uploaded exports, each kept in one row until it is confirmed
(models.MemberImportUpload says why a row and not a file under var/).

An upload belongs to the console session that sent it: `find` answers that session only,
so another staff member's upload id is "not found", the same answer as a made-up or an
already imported one, and says nothing about whether it exists. Uploads are kept for
UPLOAD_TTL; an expired one is refused (409) and deleted with the next upload.

`claim` locks the row (SELECT ... FOR UPDATE) and deletes it inside the import's own
transaction: a second confirmation (a double click, another tab) waits for the first,
then finds nothing, so a file is applied once; if the import fails, the rollback brings
the upload back untouched.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, select

from membership.errors import Conflict, NotFound
from membership.extensions import db
from membership.readers.importing.models import MemberImportUpload

UPLOAD_TTL = timedelta(hours=1)


def map_lines(column_map: str) -> tuple[str, ...]:
    """The column-map text (one COLUMN=FIELD per line) as `--map` values; blank lines skipped."""
    return tuple(line.strip() for line in column_map.splitlines() if line.strip())


def store(session_id: int, source: str, column_map: str, file_name: str, body: bytes,
          now: datetime) -> MemberImportUpload:
    """Keep a checked upload for this console session (and forget expired ones). Flushes."""
    db.session.execute(delete(MemberImportUpload).where(MemberImportUpload.expires_at <= now))
    row = MemberImportUpload(id=secrets.token_urlsafe(32), staff_session_id=session_id, source=source,
                             column_map="\n".join(map_lines(column_map)), file_name=file_name[:255] or "upload.csv",
                             body=body, created_at=now, expires_at=now + UPLOAD_TTL)
    db.session.add(row)
    db.session.flush()
    return row


def find(upload_id: str, session_id: int, now: datetime, lock: bool = False) -> MemberImportUpload:
    query = select(MemberImportUpload).where(MemberImportUpload.id == upload_id[:64],
                                             MemberImportUpload.staff_session_id == session_id)
    row = db.session.scalar(query.with_for_update() if lock else query)
    if row is None:
        raise NotFound("There is no such upload waiting in this console session: it was imported or discarded "
                       "already, or it was uploaded from another session. Upload the file again to check it.")
    if row.expires_at <= now:
        raise Conflict(f"This upload expired: uploads wait {UPLOAD_TTL.seconds // 3600} hour for their "
                       "confirmation. Upload the file again to check it.")
    return row


def claim(upload_id: str, session_id: int, now: datetime) -> MemberImportUpload:
    """The upload, locked and deleted in the caller's transaction (applied once). Flushes."""
    row = find(upload_id, session_id, now, lock=True)
    db.session.delete(row)
    db.session.flush()
    return row
