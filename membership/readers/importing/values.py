"""One cell of an export -> a typed value, or a RowError saying why the row is refused.

Why strict: an import runs once over thousands of people; a guessed date or a
half-read address becomes a wrong consent date or a reader nobody can reach. Refusing
the row with a reason lets the operator fix the file and run it again (it is idempotent).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from functools import lru_cache

from pydantic import TypeAdapter, ValidationError

from membership.identity.schemas import Email

_EMAIL: TypeAdapter[str] = TypeAdapter(Email)
_TRUE = frozenset({"true", "t", "yes", "y", "1"})
_FALSE = frozenset({"false", "f", "no", "n", "0"})
LABEL_MAX = 100
NAME_MAX = 200
NOTE_MAX = 2000


class RowError(ValueError):
    """The reason a row is rejected (shown in the report next to its line number)."""


# An ASCII dot-atom local part (RFC 5322), which is all sign-up's validator accepts
# before the @ (no quoted local parts; non-ASCII is refused by identity.schemas).
_LOCAL = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")


@lru_cache(maxsize=65536)
def _domain(domain: str) -> str | None:
    """The domain as sign-up stores it, or None. Checked once per distinct domain: the
    full validator spends most of its time on the domain (IDNA, special-use names), and
    100,000 readers share a few thousand domains at most."""
    try:
        return _EMAIL.validate_python(f"postmaster@{domain}").rpartition("@")[2]
    except ValidationError:
        return None


def email(raw: str) -> str:
    """The reader's address as sign-up would store it (the same validator for the domain,
    the same rule for the local part, lower-cased)."""
    value = raw.strip()
    if not value:
        raise RowError("empty email")
    local, at, domain = value.rpartition("@")
    checked = _domain(domain) if at and _LOCAL.fullmatch(local) else None
    if checked is None or len(local) + 1 + len(checked) > 254:
        raise RowError(f"invalid email {value[:80]!r}")
    return f"{local}@{checked}".lower()


def flag(raw: str, column: str, default: bool) -> bool:
    value = raw.strip().lower()
    if not value:
        return default
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise RowError(f"unreadable true/false {raw.strip()[:40]!r} in {column}")


def when(raw: str, column: str) -> datetime | None:
    """ISO 8601 (a trailing Z, a space instead of T, or a bare date); no offset means UTC."""
    value = raw.strip()
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        try:
            parsed = datetime.combine(date.fromisoformat(value), time())
        except ValueError:
            raise RowError(f"unreadable date {value[:40]!r} in {column}") from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def tags(raw: str, prefix: str = "") -> list[str]:
    """Comma-separated names; quotes around each (Mailchimp writes "a","b") are dropped."""
    out: list[str] = []
    for part in raw.split(","):
        name = " ".join(part.strip().strip('"').split())
        if name:
            out.append((prefix + name)[:LABEL_MAX])
    return out


def stripe_customer(raw: str) -> str | None:
    """A Stripe customer id, or None. Ghost's `auto` (look the customer up by email) is
    left to Stripe adoption, which matches by email anyway."""
    value = raw.strip()
    if not value or value.lower() == "auto":
        return None
    if not value.startswith("cus_") or not value[4:].replace("_", "").isalnum() or len(value) > 255:
        raise RowError(f"{value[:40]!r} is not a Stripe customer id (cus_...)")
    return value
