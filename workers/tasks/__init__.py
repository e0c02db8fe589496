"""Every task module, imported so the worker registers them."""

from workers.tasks import ledger, maintenance, newsletters, webhooks

__all__ = ["ledger", "maintenance", "newsletters", "webhooks"]
