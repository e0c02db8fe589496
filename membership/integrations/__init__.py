"""Telling the newsroom's other systems: entitlements for the site (API keys, signed
tokens, the JWKS) and signed webhooks out (the outbox, its delivery and retries)."""
