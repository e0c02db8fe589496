"""Every task module, imported so the worker registers them."""

from workers.tasks import maintenance, newsletters, webhooks

__all__ = ["maintenance", "newsletters", "webhooks"]
