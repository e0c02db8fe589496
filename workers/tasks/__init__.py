"""Every task module, imported so the worker registers them."""

from workers.tasks import integrations, mail, maintenance, newsletters, reports, webhooks

__all__ = ["integrations", "mail", "maintenance", "newsletters", "reports", "webhooks"]
