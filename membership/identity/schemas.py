"""The email address type every endpoint accepts (sign-up, sign-in, checkout, gifts)."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, EmailStr, Field


def _bare_address(value: object) -> object:
    """Only a bare address: no display name ("Ann <a@b.org>"), no spaces or brackets."""
    if isinstance(value, str) and any(ch in value for ch in "<> \t\r\n,;"):
        raise ValueError("give the address only, like name@example.org")
    return value


def _mailable(value: str) -> str:
    """Lower-cased, ASCII: an internationalised domain is stored in its IDNA (punycode)
    form so SMTP relays without SMTPUTF8 can deliver; a non-ASCII local part cannot be
    delivered that way and is refused."""
    local, _, domain = value.rpartition("@")
    if not local.isascii():
        raise ValueError("addresses with non-ASCII characters before the @ are not supported")
    try:
        ascii_domain = domain.encode("idna").decode("ascii")
    except UnicodeError:
        raise ValueError("the domain cannot be encoded for mail") from None
    return f"{local}@{ascii_domain}".lower()


Email = Annotated[EmailStr, BeforeValidator(_bare_address), AfterValidator(_mailable), Field(max_length=254)]
