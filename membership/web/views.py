"""Operational endpoints; reader and staff pages register their own blueprints."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from membership.web.health import readiness

bp = Blueprint("web", __name__)


@bp.get("/healthz")
def healthz() -> Response:
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz() -> tuple[Response, int]:
    checks = readiness()
    down = sorted(name for name, state in checks.items() if state != "ok")
    body = {"status": "ready" if not down else "unavailable", "checks": checks, "down": down}
    return jsonify(body), (200 if not down else 503)
