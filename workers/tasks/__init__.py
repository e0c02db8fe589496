"""Every task module, imported so the worker registers them."""

from workers.tasks import maintenance, webhooks

__all__ = ["maintenance", "webhooks"]
