"""The hosted billing portal, where readers change cards and see invoices."""

from __future__ import annotations

from membership.billing.gateway.client import stripe_client
from membership.billing.gateway.errors import translating


@translating
def portal_url(customer_id: str, return_url: str) -> str:
    """A one-time link into the portal for this customer."""
    portal = stripe_client().v1.billing_portal.sessions.create(params={"customer": customer_id,
                                                                       "return_url": return_url})
    return str(portal.url)
