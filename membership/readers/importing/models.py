"""One row per applied member import: which file (by SHA-256), from where, and what it did;
and the console's uploads waiting for their confirmation.

Why keep it: consent evidence for imported opt-ins points at a source ("import:ghost")
and a date; this row ties that source to the exact file an operator ran, when, and the
counts the report printed. A dry run leaves no row (it leaves nothing at all).

Why an upload is a row and not a file under var/: the confirmation may reach another web
process or host than the upload did, and the row is deleted in the same transaction that
applies the import, under a row lock, so two confirmations of one upload cannot both run
it (membership/readers/importing/uploads.py).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from membership.db import Base, BigIntType, UTCDateTime, intpk, timestamp


class MemberImport(Base):
    __tablename__ = "member_imports"

    id: Mapped[intpk]
    source: Mapped[str] = mapped_column(String(32))
    file_name: Mapped[str] = mapped_column(String(255))
    file_sha256: Mapped[str] = mapped_column(String(64))
    data_rows: Mapped[int]
    readers_created: Mapped[int]
    readers_updated: Mapped[int]
    rejected: Mapped[int]
    created_at: Mapped[timestamp]


class MemberImportUpload(Base):
    """An export uploaded in the staff console, kept until it is confirmed (then deleted)
    or expires. `id` is random and the row belongs to one console session: only the
    browser that uploaded it can see its dry run or confirm it."""

    __tablename__ = "member_import_uploads"

    id: Mapped[str] = mapped_column(String(43), primary_key=True)
    staff_session_id: Mapped[int] = mapped_column(BigIntType, ForeignKey("staff_sessions.id", ondelete="CASCADE"),
                                                  index=True)
    source: Mapped[str] = mapped_column(String(32))
    column_map: Mapped[str] = mapped_column(Text)  # one COLUMN=FIELD per line, as `--map` takes them
    file_name: Mapped[str] = mapped_column(String(255))
    body: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[timestamp]
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
