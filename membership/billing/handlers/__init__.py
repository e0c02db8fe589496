"""Stripe event handlers, one module per concern, registered with `@handles`."""
