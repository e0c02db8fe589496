"""Who pays when a page takes money from a visitor who is not signed in (donate, gift):
the same rule as `/join` (readers/pages/join.py, whose docstring gives the reasons).

- Signed in: the session's reader; the email field is not shown.
- A new address: a reader is created (unverified, in the page's language) and pays on
  a new Stripe customer; the receipt mail and a later sign-in prove the address.
- A known address whose reader never verified it, never paid and has no subscription
  (typically the same person's abandoned checkout): that reader, whose Stripe
  customer has nothing a stranger could see.
- Any other known address: no Checkout on that reader's Stripe customer for an
  anonymous visitor (Checkout may show the customer's saved cards, and the giving
  history is theirs). The address is mailed a sign-in link (capped per address, as
  on /join) and the page says "check your email"; signed in, they give from there.

So the page tells a visitor whether an address has a paying account, as a sign-up
form does; the sign-in page itself still answers the same for every address.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from membership.extensions import db
from membership.identity.models import Reader
from membership.identity.sessions import session_reader
from membership.readers import services
from membership.readers.pages.join import _fresh as fresh  # one rule for every page that takes money
from membership.readers.pages.join import _may_mail as may_mail


def reader_by_email(email: str) -> Reader | None:
    return db.session.scalar(select(Reader).where(Reader.email == email.lower(), Reader.deleted_at.is_(None)))


def payer_for(email: str | None, name: str = "") -> Reader | None:
    """The reader who pays, or None when the address must sign in first (the link is
    mailed). `email` is validated (identity.schemas.Email) when no one is signed in. Flushes."""
    reader = session_reader()
    if reader is not None:
        return reader
    assert email, "a visitor who is not signed in gives an address"
    reader, created = found_or_created(email, name)
    if created or fresh(reader):
        return reader
    if may_mail(reader.email):
        services.request_sign_in(reader.email)
    return None


def found_or_created(email: str, name: str = "") -> tuple[Reader, bool]:
    """The reader with `email`, or a new unverified one in the page's language; (reader, created)."""
    found = reader_by_email(email)
    if found is not None:
        return found, False
    try:
        with db.session.begin_nested():  # a double click races for the same new address
            reader = Reader(email=email.lower(), name=name[:200])
            db.session.add(reader)
            db.session.flush()
    except IntegrityError:
        return db.session.scalars(select(Reader).where(Reader.email == email.lower())).one(), False
    return reader, True
