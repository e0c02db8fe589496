"""Every task module, imported so the worker registers them."""

from workers.tasks import integrations, ledger, mail, maintenance, newsletters, reports, webhooks

__all__ = ["integrations", "ledger", "mail", "maintenance", "newsletters", "reports", "webhooks"]
