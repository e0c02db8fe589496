"""Every task module, imported so the worker registers them."""

from workers.tasks import maintenance

__all__ = ["maintenance"]
