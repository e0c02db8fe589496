"""Identity serves no HTTP of its own (the reader application does); its security scheme
is declared in `identity/guard.py`. Called from the loop in `create_app` like the others."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from membership.identity import guard  # noqa: F401  (declares the reader security scheme)
