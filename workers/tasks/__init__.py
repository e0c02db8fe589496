"""Every task module, imported so the worker registers them."""

from workers.tasks import ledger, mail, maintenance, newsletters, reports, webhooks

__all__ = ["ledger", "mail", "maintenance", "newsletters", "reports", "webhooks"]
