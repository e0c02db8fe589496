"""ledger domain: the double-entry journal, revenue recognition and period locks."""

from membership.ledger import guard as _guard  # noqa: F401  (registers the commit-time balance check)
