"""`flask stripe ...`: operator commands for the webhook inbox and subscription sync."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("stripe_cli", __name__, cli_group="stripe")
