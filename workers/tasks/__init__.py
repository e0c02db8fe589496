"""Every task module, imported so the worker registers them."""

from workers.tasks import billing, integrations, mail, maintenance, newsletters, reports, webhooks

__all__ = ["billing", "integrations", "mail", "maintenance", "newsletters", "reports", "webhooks"]
