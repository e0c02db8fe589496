"""The console's one blueprint; each console module adds its routes to it."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("console", __name__, url_prefix="/staff", template_folder="templates",
               static_folder="static", static_url_path="/static")
