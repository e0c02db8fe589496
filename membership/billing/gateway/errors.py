"""Stripe's failures in our words, so no caller needs to know the SDK's exceptions.

Every gateway function raises only these. Callers keep the decisions they made
before: reader-facing services turn them into 409/502 problems (`billing.processor`),
webhook handlers let them propagate so the processor retries and finally marks the
event dead, and the few "gone at Stripe" cases are `NotFound` (or a None result).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

import stripe

P = ParamSpec("P")
R = TypeVar("R")


class GatewayError(Exception):
    """Stripe refused the request or could not be reached."""

    def __init__(self, message: str, *, user_message: str | None = None, code: str | None = None,
                 param: str | None = None) -> None:
        super().__init__(message)
        self.user_message = user_message  # Stripe's text meant for people, when it gave one
        self.code = code
        self.param = param  # the request parameter Stripe refused, when it named one


class InvalidRequest(GatewayError):
    """Stripe rejected the request's parameters (or the object they name)."""


class NotFound(InvalidRequest):
    """The object does not exist at Stripe (`resource_missing`)."""


class CardDeclined(GatewayError):
    """The card was declined."""


class IdempotencyConflict(GatewayError):
    """The same idempotency key is in flight or was used with other parameters."""


class RateLimited(GatewayError):
    """Too many requests: try again later."""


class Unavailable(GatewayError):
    """Stripe could not be reached or failed on its side."""


class SignatureInvalid(GatewayError):
    """A webhook's signature does not match its body (or is missing, or stale)."""


def translate(exc: stripe.StripeError) -> GatewayError:
    """The project's error for one SDK exception (most specific class first)."""
    kind: type[GatewayError] = GatewayError
    if isinstance(exc, stripe.InvalidRequestError):
        kind = NotFound if exc.code == "resource_missing" else InvalidRequest
    elif isinstance(exc, stripe.CardError):
        kind = CardDeclined
    elif isinstance(exc, stripe.IdempotencyError):
        kind = IdempotencyConflict
    elif isinstance(exc, stripe.RateLimitError):
        kind = RateLimited
    elif isinstance(exc, (stripe.APIConnectionError, stripe.APIError)):
        kind = Unavailable
    return kind(str(exc), user_message=exc.user_message, code=exc.code, param=getattr(exc, "param", None))


@contextmanager
def translated() -> Iterator[None]:
    """Re-raise SDK exceptions from the block as GatewayErrors (the cause kept)."""
    try:
        yield
    except stripe.StripeError as exc:
        raise translate(exc) from exc


def translating(fn: Callable[P, R]) -> Callable[P, R]:
    """Decorator form of `translated` for a whole gateway function."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with translated():
            return fn(*args, **kwargs)

    return wrapper
