"""The reports blueprint: every report's operations register on it (see routes.py), and
its commands (`flask reports ...`, rollup_cli.py) on its CLI group."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("reports_api", __name__, url_prefix="/api/staff/reports", cli_group="reports")
