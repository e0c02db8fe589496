"""Mail serves no HTTP and has no commands of its own (billing's notices own `flask mail
...` and the notice alerts); called from the loop in `create_app` like every package."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    """Nothing to add: the domains register their notice kinds with `mail.kinds`."""
