"""Liveness and readiness probes: what a load balancer and an operator need to know."""

from __future__ import annotations

from flask import current_app
from kombu import Connection
from sqlalchemy import text

from membership.extensions import db


def check_database() -> str:
    try:
        db.session.execute(text("SELECT 1"))
        return "ok"
    except Exception as exc:
        db.session.rollback()
        return f"down: {type(exc).__name__}"


def check_broker() -> str:
    url = current_app.extensions["celery"].conf.broker_url
    try:
        with Connection(url, connect_timeout=2, transport_options={"socket_connect_timeout": 2}) as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=2)
        return "ok"
    except Exception as exc:
        return f"down: {type(exc).__name__}"


def readiness() -> dict[str, str]:
    return {"database": check_database(), "broker": check_broker()}
