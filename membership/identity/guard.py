"""The reader-session security scheme every reader endpoint names (`security=READER`):
a live session, and the CSRF token on unsafe methods. Declared here, in the lowest
domain, so billing's and newsletters' reader endpoints use it without importing the
reader application above them."""

from __future__ import annotations

from membership.api import register_security
from membership.identity.models import Reader
from membership.identity.sessions import require_reader, session_reader

READER = "readerSession"


def _guard() -> None:
    require_reader()


def declare_reader_security() -> None:
    """Declare the scheme with the API registry (from identity's `register.py`, at start-up)."""
    register_security(READER, {"type": "apiKey", "in": "cookie", "name": "session",
                               "description": "Session cookie; unsafe methods also need the X-CSRF-Token header."},
                      _guard)


def me() -> Reader:
    """The signed-in reader of a guarded endpoint."""
    reader = session_reader()
    assert reader is not None  # the guard ran
    return reader
