"""What the account pages share: the words for streams, statuses and intervals in the
reader's language, the reasons to cancel, and domain errors as a translated page.

Services raise English problem details (they also serve the JSON API). A page shows
the reader a sentence in their language instead, chosen by the kind of error, and
keeps the way back (`link`) to the account.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar

from flask_babel import gettext as _

from membership.billing.processor import ProcessorError
from membership.enums import Interval, Stream, SubscriptionStatus
from membership.errors import Conflict, DomainError, InvalidInput, NotFound, Unauthorized
from membership.identity.tokens import TokenInvalid
from membership.readers.pages.blueprint import message

P = ParamSpec("P")
R = TypeVar("R")



def N_(text: str) -> str:
    """Marks text for the catalog at import time; `_()` translates it per request."""
    return text


_REASONS = [("too_expensive", N_("Too expensive")), ("unused", N_("I don't use it enough")),
            ("switched_service", N_("I switched to something else")), ("missing_features", N_("Something is missing")),
            ("customer_service", N_("Problems with the service")), ("other", N_("Another reason"))]
REASON_CODES = frozenset(code for code, _text in _REASONS)
_STREAMS = {Stream.MEMBERSHIP: N_("Membership"), Stream.RECURRING_DONATION: N_("Recurring gift"),
            Stream.ONE_TIME_DONATION: N_("One-time gift"), Stream.OTHER: N_("Payment")}
_STATUSES = {SubscriptionStatus.ACTIVE: N_("active"), SubscriptionStatus.TRIALING: N_("free trial"),
             SubscriptionStatus.PAST_DUE: N_("payment overdue"), SubscriptionStatus.UNPAID: N_("unpaid"),
             SubscriptionStatus.PAUSED: N_("paused"), SubscriptionStatus.INCOMPLETE: N_("waiting for payment"),
             SubscriptionStatus.INCOMPLETE_EXPIRED: N_("not started"), SubscriptionStatus.CANCELED: N_("ended")}
_PER = {Interval.MONTH: N_("per month"), Interval.YEAR: N_("per year"), Interval.ONE_TIME: N_("once")}


def reasons() -> list[tuple[str, str]]:
    return [(code, _(text)) for code, text in _REASONS]


def streams() -> dict[Stream, str]:
    return {key: _(text) for key, text in _STREAMS.items()}


def status_name(status: SubscriptionStatus) -> str:
    return _(_STATUSES[status])


def per(interval: Interval) -> str:
    return _(_PER[interval])


def error_page(exc: DomainError) -> tuple[str, int]:
    """A domain error as a short page in the reader's language, with the way back."""
    back = {"link": "/account", "link_text": _("Back to your account")}
    if isinstance(exc, Unauthorized):
        return message(_("Please sign in"), _("This page is for signed-in readers."), 401, error=True,
                       link="/signin", link_text=_("Sign in"))
    if isinstance(exc, TokenInvalid):
        return message(_("This link no longer works"), _("Ask for a new link."), 410, error=True,
                       link="/signin", link_text=_("Get a new link"))
    if isinstance(exc, NotFound):
        return message(_("Not found"), _("We could not find that in your account."), 404, error=True, **back)
    if isinstance(exc, Conflict):
        return message(_("This cannot be changed now"), _("Nothing was changed. Reload your account page: "
                       "it shows what can be changed."), 409, error=True, **back)
    if isinstance(exc, ProcessorError):
        return message(_("Payments are not reachable"), _("We could not reach our payment processor. Nothing "
                       "was changed: please try again in a few minutes."), 502, error=True, **back)
    if isinstance(exc, InvalidInput) or exc.status in (400, 422):
        return message(_("Please check what you entered"), _("Nothing was changed."), 400, error=True, **back)
    return message(_("Something went wrong"), _("Nothing was changed: please try again."), exc.status,
                   error=True, **back)


def reader_errors(view: Callable[P, R]) -> Callable[P, R | tuple[str, int]]:
    """Outside `@transactional`: the transaction has rolled back when the page is drawn."""
    @wraps(view)
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> R | tuple[str, int]:
        try:
            return view(*args, **kwargs)
        except DomainError as exc:
            return error_page(exc)
    return wrapped


