"""A finance user opens the dashboard over the demo outlet's history, changes the range
and the currency, and downloads a CSV whose totals equal the staff API's."""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import requests

from membership.db import utcnow
from membership.demo import seed
from membership.enums import StaffRole
from membership.extensions import db
from membership.ledger.journal import local_date
from tests.browser.harness import SCREENSHOTS, Site, assert_accessible, shoot

pytestmark = pytest.mark.browser


def _finance_signed_in(site: Site, page: Any) -> str:
    """A finance user signs in to the console WITH the second factor: their authenticator
    is enrolled beforehand (the enrolment page has its own test), the session starts
    unverified (the console's fast path for the magic-link step), and the browser types
    the app's current code on the real second-factor page. Returns an API token of the
    same role, to ask the API for the numbers to compare with."""
    from membership.staff.services import create_staff_user
    from tests.console.helpers import sign_in_browser_past_second_factor, staff_user

    _api_user, token = create_staff_user("fin-api@news.example", StaffRole.FINANCE)
    sign_in_browser_past_second_factor(page, site, staff_user(StaffRole.FINANCE, "fin@news.example"),
                                       "/staff/dashboard")
    return token


def _months_back(n: int) -> str:
    today = local_date(utcnow())
    index = today.year * 12 + today.month - 1 - n
    return date(index // 12, index % 12 + 1, 1).strftime("%Y-%m")


def test_finance_reads_the_dashboard_filters_it_and_downloads_a_csv(site: Site, page: Any) -> None:
    seed(300)
    db.session.commit()
    token = _finance_signed_in(site, page)

    page.goto("/staff/dashboard")
    page.get_by_role("heading", name="Finance dashboard").wait_for()
    page.get_by_role("heading", name="Needs attention").wait_for()
    assert page.locator("svg.chart").count() >= 6
    assert page.get_by_role("img", name="Membership MRR").count() == 1
    assert_accessible(page, "console dashboard")
    shoot(page, "console-dashboard")
    for key in ("worklist", "mrr", "movements", "cash", "recognition", "churn", "donors"):
        page.locator(f"#{key}").screenshot(path=str(SCREENSHOTS / f"console-dashboard-{key}.png"))

    first, last = _months_back(6), _months_back(1)
    page.get_by_label("First month", exact=True).fill(first)
    page.get_by_label("Last month", exact=True).fill(last)
    page.get_by_label("Currency", exact=True).select_option("USD")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url("**currency=USD**")
    assert page.get_by_label("Currency", exact=True).input_value() == "USD"
    assert page.locator("#movements-table tbody tr").count() == 6
    shoot(page, "console-dashboard-usd-6-months")

    with page.expect_download() as info:
        page.get_by_role("link", name="Download CSV of New, expansion, contraction, churn and reactivation").click()
    rows = list(csv.DictReader(io.StringIO(Path(info.value.path()).read_text(encoding="utf-8"))))
    total = rows[-1]
    assert total["month"] == "Total" and len(rows) == 7

    start, end_month = date.fromisoformat(first + "-01"), date.fromisoformat(last + "-01")
    end = date(end_month.year + end_month.month // 12, end_month.month % 12 + 1, 1)
    api = requests.get(f"{site.url}/api/staff/reports/mrr-rollforward",
                       params={"start": start.isoformat(), "end": end.isoformat()},
                       headers={"Authorization": f"Bearer {token}"}, timeout=30).json()
    usd = next(c for c in api["currencies"] if c["currency"] == "USD")
    for kind, amount in usd["movements"].items():
        assert int(total[f"{kind}_minor"]) == amount, kind
    assert sum(usd["movements"].values()) != 0  # the demo moved in those months

    page.locator("#movements-table tbody a").first.click()
    page.get_by_role("heading", name="in").first.wait_for()
    assert page.locator("#drill-table tbody tr").count() >= 1
    assert_accessible(page, "dashboard drill-down")
    shoot(page, "console-dashboard-drilldown")
