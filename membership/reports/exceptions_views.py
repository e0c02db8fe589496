"""The exceptions worklist as an operation (JSON, finance and admin roles)."""

from __future__ import annotations

from dataclasses import asdict

from membership.api import operation
from membership.db import utcnow
from membership.reports import exceptions
from membership.reports.blueprint import bp
from membership.reports.schemas import ExceptionsOut
from membership.staff.auth import require_permission


@operation(bp, "/exceptions", "GET", summary="What finance should look at now", tag="reports",
           response=ExceptionsOut, security=require_permission("reports:read"))
def exception_report() -> ExceptionsOut:
    """Failed renewals, open disputes, unreconciled payouts, unattributed payout lines and
    dead webhook events; each list is capped at 500 and carries its full count."""
    found = exceptions.exceptions()
    return ExceptionsOut(report=exceptions.NAME, version=exceptions.VERSION, generated_at=utcnow(), **asdict(found))
