"""Stripe call errors as domain errors: a reader sees a 502/409/422 problem, never a 500."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import stripe

from membership.errors import Conflict, DomainError


class ProcessorError(DomainError):
    status, title, type_slug = 502, "Payment processor error", "processor-error"


@contextmanager
def stripe_errors() -> Iterator[None]:
    """Translate stripe-python exceptions raised inside the block."""
    try:
        yield
    except stripe.IdempotencyError as exc:
        raise Conflict("The same request is already being processed with other details; retry.") from exc
    except stripe.StripeError as exc:
        raise ProcessorError(f"The payment processor refused the request: {exc.user_message or 'error'}") from exc
