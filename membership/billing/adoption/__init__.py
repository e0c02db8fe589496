"""Adopting an existing Stripe account (`flask stripe adopt`): read it whole through the
list endpoints and make local state equal to it, through the same services the webhook
path uses. See docs/adoption.md."""
