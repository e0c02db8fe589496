"""The one door to Stripe: typed functions that return plain values.

Split by resource family (customers, checkout, subscriptions, cards, settlement,
reversals, payouts, balance, portal, catalog, listing, webhooks). Each function
raises only `gateway.errors` exceptions, never the SDK's. No module outside this
package imports `stripe` (an import-linter contract in pyproject.toml). Tests and
the embedded default swap the address (STRIPE_API_BASE), never the code path;
`stripe_client` is exported for the gateway's modules and for tests that arrange
state in the simulator.
"""

from membership.billing.gateway.client import idempotency_key, stripe_client
from membership.billing.gateway.errors import (
    CardDeclined,
    GatewayError,
    IdempotencyConflict,
    InvalidRequest,
    NotFound,
    RateLimited,
    SignatureInvalid,
    Unavailable,
)

__all__ = [
    "CardDeclined", "GatewayError", "IdempotencyConflict", "InvalidRequest", "NotFound", "RateLimited",
    "SignatureInvalid", "Unavailable", "idempotency_key", "stripe_client",
]
