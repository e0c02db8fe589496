"""Stripe-shaped API errors.

The SDK picks its exception class from the HTTP status and ``error.type``
(402 -> CardError, 404/400 -> InvalidRequestError, 400 + idempotency_error ->
IdempotencyError, 401 -> AuthenticationError), so every failure raised inside
a handler carries both and the server renders Stripe's JSON error body.
"""

from __future__ import annotations

from typing import Any


class StripeError(Exception):
    """An error the HTTP layer turns into ``{"error": {...}}`` with ``status``."""

    def __init__(
        self,
        status: int,
        type_: str,
        message: str,
        code: str | None = None,
        param: str | None = None,
        decline_code: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.type = type_
        self.message = message
        self.code = code
        self.param = param
        self.decline_code = decline_code
        self.extra = extra or {}

    def body(self) -> dict[str, Any]:
        err: dict[str, Any] = {"type": self.type, "message": self.message}
        if self.code is not None:
            err["code"] = self.code
            err["doc_url"] = f"https://stripe.com/docs/error-codes/{self.code.replace('_', '-')}"
        if self.param is not None:
            err["param"] = self.param
        if self.decline_code is not None:
            err["decline_code"] = self.decline_code
        err.update(self.extra)
        return {"error": err}


def invalid(message: str, param: str | None = None, code: str | None = None) -> StripeError:
    """400 invalid_request_error: bad or missing parameter."""
    return StripeError(400, "invalid_request_error", message, code=code or ("parameter_missing" if message.startswith("Missing") else None), param=param)


def missing(kind: str, obj_id: str, param: str = "id") -> StripeError:
    """404 resource_missing, worded like Stripe's "No such customer: 'cus_x'"."""
    return StripeError(404, "invalid_request_error", f"No such {kind}: '{obj_id}'", code="resource_missing", param=param)


def not_found(path: str) -> StripeError:
    return StripeError(404, "invalid_request_error", f"Unrecognized request URL (GET: {path}).")


def auth(message: str) -> StripeError:
    return StripeError(401, "invalid_request_error", message)


def idempotency(message: str) -> StripeError:
    return StripeError(400, "idempotency_error", message)


def card_declined(decline_code: str, message: str, charge: str | None = None, pi: dict[str, Any] | None = None) -> StripeError:
    """402 card_error, with the failed charge id as Stripe includes it."""
    code = "card_declined"
    if decline_code in ("expired_card", "incorrect_cvc", "processing_error"):
        code = decline_code
    extra: dict[str, Any] = {}
    if charge:
        extra["charge"] = charge
    if pi is not None:
        extra["payment_intent"] = pi
    return StripeError(402, "card_error", message, code=code, decline_code=decline_code, extra=extra)
