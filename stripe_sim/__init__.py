"""stripe_sim: an offline, stateful Stripe for tests, benchmarks and the demo.

Point stripe-python at ``SimServer(...).start().url`` via ``base_addresses``.
"""

from __future__ import annotations

from .app import SimServer
from .engine import API_VERSION

__all__ = ["API_VERSION", "SimServer"]
