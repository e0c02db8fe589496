"""The gateway's errors as domain errors: a reader sees a 502/409 problem, never a 500."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from membership.billing.gateway.errors import GatewayError, IdempotencyConflict
from membership.errors import Conflict, DomainError


class ProcessorError(DomainError):
    status, title, type_slug = 502, "Payment processor error", "processor-error"


@contextmanager
def processor_errors() -> Iterator[None]:
    """Translate gateway errors raised inside the block, for reader- and staff-facing calls."""
    try:
        yield
    except IdempotencyConflict as exc:
        raise Conflict("The same request is already being processed with other details; retry.") from exc
    except GatewayError as exc:
        raise ProcessorError(f"The payment processor refused the request: {exc.user_message or 'error'}") from exc
