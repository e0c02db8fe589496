"""What mail knows of notice kinds: nothing of its own. Mail sits below the domains, so
the domains that record notices tell it, at start-up (their `register.py`), for each
kind: how to load its template variables from the notice's context, whether it is a
renewal-law notice (the layout then says how to cancel), and checks that a notice still
applies when its turn to be sent comes. Identity tells it how to name the reader and
which language the reader reads (every mail is rendered in it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from membership.config import Settings
from membership.mail.models import Notice

Loader = Callable[[dict[str, Any], Settings], dict[str, Any]]
Check = Callable[[Notice], str | None]

LOADERS: dict[str, Loader] = {}
RENEWAL_LAW_KINDS: set[str] = set()
_CHECKS: list[Check] = []
_READER_NAME: list[Callable[[int], str]] = []
_READER_LANGUAGE: list[Callable[[int], str | None]] = []


def loader(*kinds: str) -> Callable[[Loader], Loader]:
    """Decorate the function that builds these kinds' template variables."""

    def register(fn: Loader) -> Loader:
        for kind in kinds:
            LOADERS[kind] = fn
        return fn

    return register


def renewal_law(*kinds: str) -> None:
    RENEWAL_LAW_KINDS.update(kinds)


def relevance_check(check: Check) -> Check:
    """Decorate a check: None when the notice should go, else a short reason it should not."""
    if check not in _CHECKS:
        _CHECKS.append(check)
    return check


def still_applies(notice: Notice) -> str | None:
    """None when every registered check lets the notice go; else the first reason."""
    for check in _CHECKS:
        reason = check(notice)
        if reason:
            return reason
    return None


def naming_readers(lookup: Callable[[int], str]) -> None:
    _READER_NAME[:] = [lookup]


def reader_name(reader_id: int | None) -> str:
    return _READER_NAME[0](reader_id) if reader_id is not None and _READER_NAME else ""


def languages_of_readers(lookup: Callable[[int], str | None]) -> None:
    _READER_LANGUAGE[:] = [lookup]


def reader_language(reader_id: int | None) -> str | None:
    """The reader's stored language; None (the default language) for mail to no reader."""
    return _READER_LANGUAGE[0](reader_id) if reader_id is not None and _READER_LANGUAGE else None
