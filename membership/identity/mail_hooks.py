"""What identity tells mail (which sits below it): the reader's name for every notice's
greeting, the language every mail to them is written in, the variables of its own kinds
(confirmation, sign-in link, welcome), and that nothing goes to a reader whose data was
erased."""

from __future__ import annotations

from typing import Any

from membership.config import Settings
from membership.extensions import db
from membership.identity.models import Reader
from membership.mail import kinds
from membership.mail.models import Notice


def _name(reader_id: int) -> str:
    reader = db.session.get(Reader, reader_id)
    return (reader.name if reader else "") or ""


def _language(reader_id: int) -> str | None:
    reader = db.session.get(Reader, reader_id)
    return reader.language if reader else None


@kinds.loader("confirm_signup", "magic_link", "welcome")
def link_vars(ctx: dict[str, Any], settings: Settings) -> dict[str, Any]:
    return {"link": ctx.get("link", "")}


@kinds.relevance_check
def reader_not_erased(notice: Notice) -> str | None:
    """Erasure re-addresses a reader's notices to an `@invalid` address (readers/privacy.py)."""
    if notice.email.endswith("@invalid"):
        return "the reader's data was erased"
    reader = db.session.get(Reader, notice.reader_id) if notice.reader_id else None
    if reader is not None and reader.deleted_at is not None:
        return "the reader's data was erased"
    return None


kinds.naming_readers(_name)
kinds.languages_of_readers(_language)
