"""`flask mail price-change | schedule | alerts`."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from flask import Flask

from membership.db import utcnow
from membership.mail.models import Notice
from tests.factories.billing import PriceFactory, SubscriptionFactory
from tests.mail.conftest import yearly_subscription


def _run(app: Flask, *args: str) -> Any:
    return app.test_cli_runner().invoke(args=["mail", *args])


def test_price_change_command(app: Flask, db_session: Any) -> None:
    price = PriceFactory(amount_minor=1000)
    SubscriptionFactory(price_id=price.id)
    effective = (utcnow() + timedelta(days=30)).date().isoformat()
    result = _run(app, "price-change", str(price.id), "12.50", effective)
    assert result.exit_code == 0, result.output
    assert "1 price-change notices recorded" in result.output
    [notice] = db_session.query(Notice).filter_by(kind="price_change").all()
    assert json.loads(notice.context)["new_amount_minor"] == 1250
    too_soon = _run(app, "price-change", str(price.id), "12.50", utcnow().date().isoformat())
    assert too_soon.exit_code != 0 and "at least 7 days" in too_soon.output
    assert _run(app, "price-change", str(price.id), "12.505", effective).exit_code != 0
    assert _run(app, "price-change", "987654", "12.50", effective).exit_code != 0
    assert _run(app, "price-change", str(price.id), "12.50", "next week").exit_code != 0


def test_schedule_and_alerts_commands(app: Flask, db_session: Any) -> None:
    yearly_subscription(days_to_renewal=16)
    result = _run(app, "schedule")
    assert result.exit_code == 0 and json.loads(result.output)["renewal_notice"] == 1
    alerts = _run(app, "alerts")  # closes in a day: inside the alert lead
    assert alerts.exit_code == 0
    [row] = [json.loads(line) for line in alerts.output.splitlines()]
    assert row["kind"] == "renewal_notice" and row["window_closed"] is False
