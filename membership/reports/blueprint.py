"""The reports blueprint: every report's operations register on it (see routes.py)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("reports_api", __name__, url_prefix="/api/staff/reports")
