"""Checks for the fields of the donate and gift forms, each error (translated) put next
to its field: the form objects carry an `errors` dict keyed by field name."""

from __future__ import annotations

from typing import Any, Protocol

from flask_babel import gettext as _
from pydantic import TypeAdapter, ValidationError

from membership.identity.schemas import Email

_EMAIL: TypeAdapter[Any] = TypeAdapter(Email)


class HasErrors(Protocol):
    errors: dict[str, str]


def clean_email(form: HasErrors, name: str, raw: str, required: bool = True) -> str:
    """The address as stored (lower-cased, IDNA domain), or '' with the error set."""
    if not raw:
        if required:
            form.errors[name] = _("Enter your email address.")
        return ""
    try:
        return str(_EMAIL.validate_python(raw))
    except ValidationError:
        form.errors[name] = _("Enter an email address like name@example.org.")
        return raw


def clean_text(form: HasErrors, name: str, raw: str, limit: int, missing: str, required: bool = False) -> str:
    """Trimmed text of at most `limit` characters; `missing` is the error when required and empty."""
    text = " ".join(raw.split()) if limit <= 200 else raw.strip()
    if required and not text:
        form.errors[name] = missing
    elif len(text) > limit:
        form.errors[name] = _("Please keep this under %(count)s characters.", count=limit)
    return text
