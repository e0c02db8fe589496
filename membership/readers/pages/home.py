"""`/`: the outlet's support page, the first page `make run` points to. Why readers'
money matters here, in a few concrete lines, and the ways to give: join, donate,
give a gift, or sign in to manage what they already give."""

from __future__ import annotations

from typing import Any

from membership.billing.entitlement import entitlement
from membership.identity.sessions import session_reader
from membership.readers.pages.blueprint import bp, page


@bp.get("/")
def home() -> Any:
    reader = session_reader()
    member = reader is not None and entitlement(reader.id).active
    return page("readers/home.html", member=member)
