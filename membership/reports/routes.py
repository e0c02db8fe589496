"""The reports API: importing this module registers every report's operations on the
blueprint the app registers. Reports need `reports:read` (finance, admin), their CSVs also `exports:download`.
One `*_views` module per report; add its import here."""

from __future__ import annotations

from membership.reports import (  # noqa: F401  (they register)
    accounting_views,
    cash_views,
    churn_views,
    deferred_views,
    donors_views,
    exceptions_views,
    mrr_views,
    payouts_views,
    rollup_cli,
)
from membership.reports.blueprint import bp

__all__ = ["bp"]
