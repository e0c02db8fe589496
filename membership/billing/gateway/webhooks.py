"""Webhook signatures: checked with the SDK's own verifier over the exact bytes."""

from __future__ import annotations

import stripe

from membership.billing.gateway.errors import SignatureInvalid


def verify_signature(body: bytes, header: str | None, secret: str) -> None:
    """Raise SignatureInvalid unless a v1 signature matches within 300 s.

    A body that is not UTF-8 raises ValueError, as the SDK does.
    """
    try:
        stripe.WebhookSignature.verify_header(body, header, secret, stripe.Webhook.DEFAULT_TOLERANCE)
    except stripe.SignatureVerificationError as exc:
        raise SignatureInvalid(str(exc), user_message=exc.user_message) from None
