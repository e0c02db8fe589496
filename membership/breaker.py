"""A circuit breaker for the broker's Redis, one per app.

When Redis is gone, each publish would otherwise wait out a connect timeout (about
2 s a webhook, measured), and a reader's request would wait with it. Nothing is lost
by not trying: the database rows are the truth and the sweepers re-enqueue what was
not published. So after one failure the breaker stays open for a short cool-down,
callers skip Redis at no cost, and the first call after the cool-down tries again.
It says so once when it opens and once when Redis is back, not on every request.
"""

from __future__ import annotations

import logging
import threading
import time

from flask import Flask

log = logging.getLogger(__name__)
COOL_DOWN_S = 5.0
_EXT = "broker_breaker"


class Breaker:
    def __init__(self, name: str, cool_down_s: float = COOL_DOWN_S) -> None:
        self.name = name
        self.cool_down_s = cool_down_s
        self._open_until = 0.0
        self._down = False
        self._lock = threading.Lock()

    def allow(self) -> bool:
        """True when a call may try Redis: closed, or the cool-down has passed."""
        return time.monotonic() >= self._open_until

    @property
    def is_down(self) -> bool:
        return self._down

    def failed(self, error: object) -> None:
        with self._lock:
            self._open_until = time.monotonic() + self.cool_down_s
            first = not self._down
            self._down = True
        if first:
            log.warning("%s unreachable: skipping it for %.0f s at a time, sweepers catch up",
                        self.name, self.cool_down_s, extra={"error": str(error)})

    def succeeded(self) -> None:
        if self._down:
            with self._lock:
                recovered, self._down, self._open_until = self._down, False, 0.0
            if recovered:
                log.warning("%s reachable again", self.name)


def broker_breaker(app: Flask) -> Breaker:
    """The app's breaker for the broker Redis (the publish path and the webhook nudge)."""
    breaker = app.extensions.get(_EXT)
    if breaker is None:
        breaker = app.extensions.setdefault(_EXT, Breaker("broker"))
    return breaker
