"""Identity serves no HTTP of its own (the reader application does): it declares the
reader security scheme and tells mail how to greet and when not to write; called from
the loop in `create_app` like every package."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from membership.identity import mail_hooks  # noqa: F401  (its kinds and checks register with mail)
    from membership.identity.guard import declare_reader_security

    declare_reader_security()
