"""The finance dashboard over the demo outlet's history (membership/demo/history.py):
its figures are the reports', its CSVs' totals the staff API's, the filters change them,
drill-downs list the readers behind a figure, and only finance and admin get in."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import select

from membership.console import dashboard_data as data
from membership.db import utcnow
from membership.demo import seed
from membership.enums import MrrMovement, StaffRole, Stream
from membership.extensions import db
from membership.ledger.journal import next_month
from membership.reports import churn, mrr_rollforward
from membership.staff.models import AuditLog
from membership.staff.services import create_staff_user

READERS = 200
# The demo's history runs up to today: the tests read the eleven whole months before this one.
TODAY = utcnow().astimezone(ZoneInfo("America/Los_Angeles")).date().replace(day=1)  # the outlet zone in tests
START, LAST = data.add_months(TODAY, -11), data.add_months(TODAY, -1)
END = TODAY
S, L = START.strftime("%Y-%m"), LAST.strftime("%Y-%m")
OCT = data.add_months(TODAY, -2)  # a month to drill into
MID = OCT.strftime("%Y-%m")


@pytest.fixture
def demo(db_session: Any) -> None:
    seed(READERS)
    db.session.commit()


def _headers(role: StaffRole = StaffRole.FINANCE, client: Any = None) -> dict[str, str]:
    """A staff member of `role`: their API token's header (for the API), and, given the
    test client, a live second-factor-verified console session in its cookie."""
    user, token = create_staff_user(f"{role.value}@news.example", role)
    db.session.commit()
    if client is not None:
        _sign_in(client, user)
    return {"Authorization": f"Bearer {token}"}


def _sign_in(client: Any, user: Any) -> None:
    try:
        from tests.console.helpers import sign_in_client  # type: ignore[import-not-found,unused-ignore]
    except ImportError:  # the console's fast path, as its helpers do it
        from membership.console.auth import SID_KEY
        from membership.staff import console_sessions

        raw = console_sessions.start(user, "127.0.0.1", "test", verified=True)
        db.session.commit()
        with client.session_transaction() as session:
            session[SID_KEY] = raw
    else:
        sign_in_client(client, user)


def _csv(client: Any, table: str, query: str, headers: dict[str, str]) -> list[dict[str, str]]:
    response = client.get(f"/staff/dashboard/{table}.csv?{query}", headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype == "text/csv" and response.headers["Cache-Control"] == "no-store"
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def _api(client: Any, path: str, headers: dict[str, str]) -> Any:
    response = client.get(f"/api/staff/reports/{path}", headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return response.get_json()


def test_the_page_shows_a_year_of_movement_and_the_worklist(client: Any, demo: None) -> None:
    response = client.get("/staff/dashboard", headers=_headers(client=client))
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    for text in ("Needs attention", "Failed payments", "Open disputes", "Unmatched balance transactions",
                 "Dead webhook events", "Notices about to miss their legal window", "MRR and members",
                 "Revenue by stream per month (cash)", "Cash, recognised and deferred", "Churn and renewals",
                 "Donors: new, retained and lapsed", 'role="img"', "All, converted to USD"):
        assert text in html, text
    assert html.count("<svg") == 7
    assert 'href="/staff/members/' in html  # the worklist links to readers (the demo's dispute)


def test_figures_and_csv_totals_equal_the_reports_and_the_api(app: Flask, client: Any, demo: None) -> None:
    headers = _headers(client=client)
    query = f"start={S}&end={L}&currency=converted"
    start, end = START, END
    api = _api(client, f"mrr-rollforward?start={start}&end={end}&base_currency=USD", headers)["converted"]

    moves = _csv(client, "movements", query, headers)
    assert len(moves) == 12 and moves[-1]["month"] == "Total"
    for kind, amount in api["movements"].items():
        assert int(moves[-1][f"{kind}_minor"]) == amount, kind
        assert sum(int(r[f"{kind}_minor"]) for r in moves[:-1]) == amount, kind  # months add up to the range
    assert int(moves[-1]["fx_minor"]) == api["fx_minor"]
    assert sum(abs(v) for v in api["movements"].values()) > 0

    mrr = _csv(client, "mrr", query, headers)
    assert int(mrr[0]["mrr_end_minor"]) == api["start_minor"] and int(mrr[-1]["mrr_end_minor"]) == api["end_minor"]
    with app.test_request_context():
        members = churn.churn(Stream.MEMBERSHIP, start, end)
        for row, month in zip(mrr[1:], members.months, strict=True):
            assert int(row["paying_members_end"]) == month.paying_end
            one = mrr_rollforward.roll_forward(Stream.MEMBERSHIP, month.month, next_month(month.month), "USD")
            assert one.converted is not None and int(row["mrr_end_minor"]) == one.converted.end_minor

    cash = _csv(client, "cash", f"start={S}&end={L}&currency=USD", headers)
    cells = _api(client, f"cash-summary?start={start}&end={end}", headers)["cells"]
    per_stream: dict[str, int] = defaultdict(int)
    for cell in cells:
        if cell["currency"] == "USD":
            per_stream[cell["stream"]] += cell["net_sales_minor"]
    assert {s: int(cash[-1][f"{s}_minor"]) for s in per_stream} == dict(per_stream)
    assert per_stream["membership"] > 0 and per_stream["one_time_donation"] > 0

    deferred_rows = _api(client, f"deferred-revenue?start={start}&end={end}", headers)["months"]
    recognition = _csv(client, "recognition", f"start={S}&end={L}&currency=EUR", headers)
    eur = [r for r in deferred_rows if r["currency"] == "EUR" and r["stream"] == "membership"]
    assert int(recognition[-1]["recognized_minor"]) == sum(r["recognized_minor"] for r in eur) > 0
    assert int(recognition[-1]["deferred_end_minor"]) == eur[-1]["closing_minor"]

    donors_csv = _csv(client, "donors", query, headers)
    api_donors = _api(client, f"donors?start={start}&end={end}", headers)["currencies"]
    for key in ("donors", "new", "retained", "reactivated", "lapsed"):
        assert int(donors_csv[-1][key]) == sum(c[key] for c in api_donors), key

    churn_csv = _csv(client, "churn", query, headers)
    api_churn = _api(client, f"churn?start={start}&end={end}", headers)["months"]
    assert [int(r["churned"]) for r in churn_csv] == [m["logo_churn"]["numerator"] for m in api_churn]
    assert sum(int(r["churned"]) for r in churn_csv) > 0


def test_filters_change_the_figures_and_bad_ones_are_a_clear_400(client: Any, demo: None) -> None:
    headers = _headers(client=client)
    usd = _csv(client, "mrr", f"start={S}&end={L}&currency=USD", headers)
    eur = _csv(client, "mrr", f"start={S}&end={L}&currency=EUR", headers)
    both = _csv(client, "mrr", f"start={S}&end={L}&currency=converted", headers)
    assert usd[-1]["mrr_end_minor"] != eur[-1]["mrr_end_minor"]
    assert int(usd[-1]["mrr_end_minor"]) < int(both[-1]["mrr_end_minor"])  # EUR converted on top
    short = _csv(client, "movements", f"start={data.add_months(LAST, -2):%Y-%m}&end={L}&currency=USD", headers)
    assert len(short) == 4  # three months and the total
    page = client.get(f"/staff/dashboard?start={data.add_months(LAST, -2):%Y-%m}&end={L}&currency=EUR",
                      headers=headers)
    html = page.get_data(as_text=True)
    assert f"Showing {data.add_months(LAST, -2):%B %Y} to {LAST:%B %Y}" in html and "EUR only" in html

    for query, words in [("start=2026-13", "YYYY-MM"), ("start=2026-05&end=2026-01", "must not be after"),
                         ("start=2020-01&end=2026-01", "at most 36 months"), ("currency=XXX", "Currency must be"),
                         ("start=%3Cscript%3E", "YYYY-MM")]:
        bad = client.get(f"/staff/dashboard?{query}", headers=headers)
        assert bad.status_code == 400, query
        text = bad.get_data(as_text=True)
        assert words in text and 'role="alert"' in text and "<script>" not in text, query
    assert client.get("/staff/dashboard/movements.csv?start=nope", headers=headers).status_code == 400
    assert client.get("/staff/dashboard/nothing.csv", headers=headers).status_code == 404


def test_drill_downs_list_the_readers_behind_a_figure(app: Flask, client: Any, demo: None) -> None:
    headers = _headers(client=client)
    month = OCT
    with app.test_request_context():
        moves = mrr_rollforward.movements(Stream.MEMBERSHIP, month, next_month(month), MrrMovement.NEW, "USD")
        report = mrr_rollforward.roll_forward(Stream.MEMBERSHIP, month, next_month(month))
    usd = next(c for c in report.currencies if c.currency == "USD")
    assert moves and sum(m.mrr_delta_minor for m in moves) == usd.movements["new"]
    page = client.get(f"/staff/dashboard/movements?month={MID}&kind=new&currency=USD", headers=headers)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and f"{len(moves)} line" in html
    for m in moves:
        assert f'href="/staff/members/{m.reader_id}"' in html and m.email in html
    dashboard = client.get(f"/staff/dashboard?start={S}&end={L}&currency=USD", headers=headers)
    assert f'href="/staff/dashboard/movements?month={MID}&amp;kind=new&amp;currency=USD"' in dashboard.get_data(
        as_text=True)

    donors = _csv(client, "donors", f"start={S}&end={L}&currency=converted", headers)
    first = donors[0]
    new = client.get(f"/staff/dashboard/donors?start={S}&end={data.add_months(START, 2):%Y-%m}&kind=new",
                     headers=headers)
    assert new.get_data(as_text=True).count('href="/staff/members/') == int(first["new"]) > 0

    cash = _csv(client, "cash", f"start={S}&end={L}&currency=USD", headers)
    october = next(r for r in cash if r["month"] == OCT.isoformat())
    charges = client.get(f"/staff/dashboard/charges?month={MID}&stream=membership&currency=USD", headers=headers)
    total = f"total ${int(october['membership_minor']) / 100:,.2f}"
    assert total in charges.get_data(as_text=True)
    assert client.get(f"/staff/dashboard/movements?month={MID}&kind=bogus", headers=headers).status_code == 400


def test_only_finance_and_admin_get_in_and_exports_are_audited(client: Any, demo: None) -> None:
    anonymous = client.get("/staff/dashboard")
    assert anonymous.status_code == 303 and "/staff" in anonymous.headers["Location"]  # to sign in
    assert client.get("/staff/dashboard/mrr.csv").status_code in (303, 401)
    for role in (StaffRole.EDITOR, StaffRole.SUPPORT):
        headers = _headers(role, client)
        refused = client.get("/staff/dashboard", headers=headers)
        assert refused.status_code == 403 and "may not" in refused.get_data(as_text=True)
        assert client.get("/staff/dashboard/mrr.csv", headers=headers).status_code == 403
    assert client.get("/staff/dashboard", headers=_headers(StaffRole.ADMIN, client)).status_code == 200
    _csv(client, "cash", f"start={S}&end={L}&currency=USD", _headers(client=client))
    entry = db.session.scalars(select(AuditLog).where(AuditLog.actor == "finance@news.example")).one()
    assert entry.details["export"] is True and entry.details["path"] == "/staff/dashboard/cash.csv"


def test_the_converted_view_names_a_missing_rate_instead_of_guessing(client: Any, demo: None) -> None:
    from membership.ledger.models import FxRate

    db.session.query(FxRate).delete()
    db.session.add(FxRate(on_date=TODAY, currency="GBP", base_currency="USD", rate=1, source="t"))
    db.session.commit()
    html = client.get(f"/staff/dashboard?start={S}&end={L}", headers=_headers(client=client)).get_data(as_text=True)
    assert "no EUR-&gt;USD rate" in html
    assert data.CONVERTED == "converted"
