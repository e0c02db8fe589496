"""Request and response models for reader endpoints (strict: see membership.api)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from membership.api import ApiModel
from membership.identity.schemas import Email

Name = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]
Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]
Token = Annotated[str, StringConstraints(min_length=16, max_length=128, pattern=r"^[A-Za-z0-9_-]+$")]




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
