"""One row per applied member import: which file (by SHA-256), from where, and what it did.

Why keep it: consent evidence for imported opt-ins points at a source ("import:ghost")
and a date; this row ties that source to the exact file an operator ran, when, and the
counts the report printed. A dry run leaves no row (it leaves nothing at all).
"""

from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from membership.db import Base, intpk, timestamp


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
