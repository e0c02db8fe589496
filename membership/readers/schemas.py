"""Request and response models for reader endpoints (strict: see membership.api)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, EmailStr, Field, StringConstraints

from membership.api import ApiModel

Name = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]
Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]
Token = Annotated[str, StringConstraints(min_length=16, max_length=128, pattern=r"^[A-Za-z0-9_-]+$")]


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


class SignUpIn(ApiModel):
    email: Email
    name: Name = ""
    newsletters: list[Slug] = Field(default_factory=list, max_length=20)
    accept_terms: Literal[True]
    marketing: bool = False
    source: Slug = "api"


class SignInIn(ApiModel):
    email: Email


class TokenIn(ApiModel):
    token: Token


class Accepted(BaseModel):
    status: Literal["check_your_email"] = "check_your_email"
    detail: str = "If the address can receive mail, a link is on its way."


class SessionOut(BaseModel):
    reader_id: int
    email: str
    name: str
    csrf_token: str
    is_member: bool


class MembershipOut(BaseModel):
    active: bool
    source: str | None
    until: datetime | None


class MeOut(BaseModel):
    id: int
    email: str
    name: str
    email_verified: bool
    created_at: datetime
    membership: MembershipOut
    newsletters: list[Slug]


class NewsletterPrefsIn(ApiModel):
    newsletters: list[Slug] = Field(max_length=20)


class NewsletterOut(BaseModel):
    slug: str
    name: str
    status: str | None


class NewslettersOut(BaseModel):
    newsletters: list[NewsletterOut]


class ProfileIn(ApiModel):
    name: Name


class EraseIn(ApiModel):
    confirm: Literal["erase my data"]


class Done(BaseModel):
    status: Literal["ok"] = "ok"
