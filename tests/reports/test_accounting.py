"""The journal export against hand-computed files (outlet zone America/Los_Angeles; in
March 2026 that is UTC-7 from Mar 8, so 18:00 UTC is 11:00 the same local day).

Journals posted with the real posting functions (February 2026 is closed first):
  payout po_1   Feb 27 (closed month -> period March; date 2026-03-01)
                Dr Bank 2000 / Cr Stripe Clearing 2000 (membership; bank and clearing unsplit)
  charge ch_m   Mar 10, membership, gross 3000 fee 117 net 2883, reader "Ada Lovelace",
                service Mar 10 -> Apr 9 (30 local days)
                Dr Stripe Clearing 2883 + Dr Processor Fees:Memberships 117 / Cr Deferred Revenue:Memberships 3000
  charge ch_d   Mar 12, one-time donation, gross 5000 fee 175 net 4825, reader with no name (email shown)
                Dr Stripe Clearing 4825 + Dr Processor Fees:One-time Donations 175
                / Cr Donation Revenue:One-time Donations 5000
  refund re_d   Mar 20, the whole donation: Cr Stripe Clearing 5000 / Dr Refunds:One-time Donations 5000
  recognition   through Mar 31: 3000 x 22 of 30 days // 30 = 2200, dated Mar 31 local
                Dr Deferred Revenue:Memberships 2200 / Cr Membership Revenue:Memberships 2200
Not in the USD March export: an EUR charge in March, a USD donation in April.
JPY (zero decimals): charge ch_y Mar 15, gross 1000 fee 36 net 964 -> "964", "36", "1000".
Codes: base + stream digit (membership 1, one-time donation 3): 6101, 2401, 4001, 6103, 4103, 4903.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask

from membership.billing.models import Payment
from membership.enums import StaffRole, Stream
from membership.extensions import db
from membership.ledger.models import Account, ClosedPeriod
from membership.ledger.postings import Movement, ServiceLine, post_charge, post_payout, post_reversal
from membership.ledger.recognition import recognize_through
from membership.reports.accounting import AccountMappingInvalid, chart, journal_export, major
from membership.staff.services import create_staff_user
from tests.factories.billing import PaymentFactory
from tests.factories.readers import ReaderFactory
from tests.readers.helpers import unique_email

URL = "/api/staff/reports/journal-export?start=2026-03-01&end=2026-04-01"


def _at(month: int, day: int, hour: int = 18) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


def _charge(stream: Stream, gross: int, fee: int, when: datetime, charge_id: str, currency: str = "USD",
            reader_name: str | None = None, service: list[ServiceLine] | None = None) -> Payment:
    reader = ReaderFactory(email=f"{charge_id}@example.org", name=reader_name or "")
    payment = PaymentFactory(stream=stream, gross_minor=gross, fee_minor=fee, net_minor=gross - fee,
                             currency=currency, paid_at=when, stripe_charge_id=charge_id, reader_id=reader.id)
    post_charge(payment, service or [])
    return payment


@pytest.fixture
def journals(db_session: Any) -> dict[str, str]:
    """The journals of the table above; returns name -> journal number."""
    db.session.add(ClosedPeriod(period=date(2026, 2, 1), closed_by="finance@example.org"))
    db.session.flush()
    payout = post_payout("po_1", 2000, "USD", _at(2, 27), {Stream.MEMBERSHIP: 2000})
    member = _charge(Stream.MEMBERSHIP, 3000, 117, _at(3, 10), "ch_m", reader_name="Ada Lovelace",
                     service=[ServiceLine(3000, _at(3, 10, 7), _at(4, 9, 7))])
    gift = _charge(Stream.ONE_TIME_DONATION, 5000, 175, _at(3, 12), "ch_d")
    refund = post_reversal(gift, Movement("txn_re_d", -5000, 0, -5000, "USD", _at(3, 20)), key="refund:re_d",
                           kind="refund", contra=Account.REFUNDS, fee_account=Account.PROCESSOR_FEES)
    _charge(Stream.ONE_TIME_DONATION, 1000, 36, _at(3, 15), "ch_y", currency="JPY")
    _charge(Stream.ONE_TIME_DONATION, 4000, 150, _at(3, 16), "ch_e", currency="EUR")
    _charge(Stream.ONE_TIME_DONATION, 7000, 233, _at(4, 2), "ch_april")
    assert recognize_through(date(2026, 3, 31)) == 1
    db.session.commit()  # a refused request (401/422) rolls back the session it shares with the test
    assert payout is not None and refund is not None
    ids = {"payout": payout.id, "refund": refund.id}
    from membership.ledger.journal import find

    for key, name in (("charge:ch_m", "member"), ("charge:ch_d", "gift"), ("charge:ch_y", "yen")):
        txn = find(key)
        assert txn is not None
        ids[name] = txn.id
    recognition = [j for j in journal_export(date(2026, 3, 1), date(2026, 4, 1), "USD").journals
                   if j.kind == "recognition"]
    ids["recognition"] = recognition[0].journal_id
    assert member.reader_id is not None
    return {name: f"M-{jid}" for name, jid in ids.items()}


@pytest.fixture
def staff(journals: dict[str, str]) -> dict[str, str]:
    _user, token = create_staff_user(unique_email("fin"), StaffRole.FINANCE)
    db.session.commit()
    return {"Authorization": f"Bearer {token}"}


def _csv(client: Any, staff: dict[str, str], query: str) -> list[list[str]]:
    response = client.get(f"{URL}&format=csv&{query}", headers=staff)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["X-Report"] == "journal-export/1"
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


def test_quickbooks_csv_is_the_hand_computed_file(client: Any, staff: dict[str, str],
                                                  journals: dict[str, str]) -> None:
    assert client.get(f"{URL}&target=quickbooks&currency=USD").status_code == 401
    rows = _csv(client, staff, "target=quickbooks&currency=USD")
    p, m, g, r, rec = (journals[k] for k in ("payout", "member", "gift", "refund", "recognition"))
    recognised = "membership revenue recognised through 2026-03-31"
    assert rows == [
        ["Journal No", "Journal Date", "Account Name", "Debits", "Credits", "Description", "Name"],
        [p, "2026-03-01", "Bank", "20.00", "", "payout po_1", ""],
        [p, "2026-03-01", "Stripe Clearing", "", "20.00", "payout po_1", ""],
        [m, "2026-03-10", "Stripe Clearing", "28.83", "", "charge ch_m", "Ada Lovelace"],
        [m, "2026-03-10", "Processor Fees:Memberships", "1.17", "", "charge ch_m", "Ada Lovelace"],
        [m, "2026-03-10", "Deferred Revenue:Memberships", "", "30.00", "charge ch_m", "Ada Lovelace"],
        [g, "2026-03-12", "Stripe Clearing", "48.25", "", "charge ch_d", "ch_d@example.org"],
        [g, "2026-03-12", "Processor Fees:One-time Donations", "1.75", "", "charge ch_d", "ch_d@example.org"],
        [g, "2026-03-12", "Donation Revenue:One-time Donations", "", "50.00", "charge ch_d", "ch_d@example.org"],
        [r, "2026-03-20", "Stripe Clearing", "", "50.00", "refund txn_re_d of ch_d", "ch_d@example.org"],
        [r, "2026-03-20", "Refunds:One-time Donations", "50.00", "", "refund txn_re_d of ch_d", "ch_d@example.org"],
        [rec, "2026-03-31", "Deferred Revenue:Memberships", "22.00", "", recognised, ""],
        [rec, "2026-03-31", "Membership Revenue:Memberships", "", "22.00", recognised, ""],
    ]
    debits: dict[str, Decimal] = defaultdict(Decimal)
    credits: dict[str, Decimal] = defaultdict(Decimal)
    for row in rows[1:]:
        debits[row[0]] += Decimal(row[3] or 0)
        credits[row[0]] += Decimal(row[4] or 0)
    assert debits == credits and set(debits) == {p, m, g, r, rec}


def test_xero_csv_is_signed_and_grouped_by_narration(client: Any, staff: dict[str, str],
                                                     journals: dict[str, str]) -> None:
    rows = _csv(client, staff, "target=xero&currency=USD")
    assert rows[0] == ["Narration", "Date", "Description", "AccountCode", "TaxRate", "Amount"]
    g = journals["gift"]
    assert [row for row in rows if row[0].startswith(f"{g} ")] == [
        [f"{g} charge ch_d", "2026-03-12", "charge ch_d", "1010", "Tax Exempt", "48.25"],
        [f"{g} charge ch_d", "2026-03-12", "charge ch_d", "6103", "Tax Exempt", "1.75"],
        [f"{g} charge ch_d", "2026-03-12", "charge ch_d", "4103", "Tax Exempt", "-50.00"],
    ]
    assert [row[3] for row in rows[1:]] == ["1000", "1010", "1010", "6101", "2401", "1010", "6103", "4103",
                                            "1010", "4903", "2401", "4001"]
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for row in rows[1:]:
        totals[row[0]] += Decimal(row[5])
    assert len(totals) == 5 and set(totals.values()) == {Decimal(0)}


def test_zero_decimal_currency_exports_whole_yen(client: Any, staff: dict[str, str],
                                                 journals: dict[str, str]) -> None:
    y = journals["yen"]
    assert _csv(client, staff, "target=quickbooks&currency=JPY")[1:] == [
        [y, "2026-03-15", "Stripe Clearing", "964", "", "charge ch_y", "ch_y@example.org"],
        [y, "2026-03-15", "Processor Fees:One-time Donations", "36", "", "charge ch_y", "ch_y@example.org"],
        [y, "2026-03-15", "Donation Revenue:One-time Donations", "", "1000", "charge ch_y", "ch_y@example.org"],
    ]
    assert [row[5] for row in _csv(client, staff, "target=xero&currency=JPY")[1:]] == ["964", "36", "-1000"]


def test_json_lists_balanced_journals_of_the_months_only(client: Any, staff: dict[str, str],
                                                         journals: dict[str, str]) -> None:
    body = client.get(f"{URL}&target=xero&currency=USD", headers=staff).get_json()
    assert (body["report"], body["version"], body["target"], body["currency"], body["count"]) == (
        "journal-export", 1, "xero", "USD", 5)
    assert [j["journal_no"] for j in body["journals"]] == [journals[k] for k in
                                                          ("payout", "member", "gift", "refund", "recognition")]
    payout = body["journals"][0]
    assert (payout["period"], payout["date"], payout["occurred_at"][:10]) == ("2026-03-01", "2026-03-01",
                                                                              "2026-02-27")
    assert all(j["debits_minor"] == j["credits_minor"] == sum(line["debit_minor"] for line in j["lines"])
               for j in body["journals"])
    assert [j["debits_minor"] for j in body["journals"]] == [2000, 3000, 5000, 5000, 2200]
    april = client.get("/api/staff/reports/journal-export?start=2026-04-01&end=2026-05-01&target=xero"
                       "&currency=USD", headers=staff).get_json()
    assert [j["memo"] for j in april["journals"]] == ["charge ch_april"]


@pytest.mark.parametrize("query", [
    "start=2026-03-02&end=2026-04-01&currency=USD",  # starts mid-month
    "start=2026-03-01&end=2026-04-15&currency=USD",  # ends mid-month
    "start=2026-03-01&end=2026-04-01",  # no currency: one file is one currency
    "start=2026-03-01&end=2026-04-01&currency=XYZ",  # not a currency we know the decimals of
])
def test_refuses_split_months_and_a_missing_or_unknown_currency(client: Any, staff: dict[str, str],
                                                                query: str) -> None:
    response = client.get(f"/api/staff/reports/journal-export?{query}&target=quickbooks", headers=staff)
    assert response.status_code == 422, response.get_data(as_text=True)
    assert client.get(f"{URL}&target=quickbooks&currency=USD", headers=staff).status_code == 200  # the same, whole


def test_account_mapping_from_settings(app: Flask, monkeypatch: pytest.MonkeyPatch,
                                       journals: dict[str, str]) -> None:
    mapping = {"donation_revenue": {"name": "Gifts", "code": "4500",
                                    "streams": {"one_time_donation": {"name": "Gifts:Single", "code": "4530"}}},
               "processor_fees": {"code": "6000"}}
    monkeypatch.setitem(app.config, "SETTINGS", replace(app.config["SETTINGS"], extra={"accounting_accounts": mapping}))
    gift = next(j for j in journal_export(date(2026, 3, 1), date(2026, 4, 1), "USD").journals
                if j.journal_no == journals["gift"])
    assert [(line.account_name, line.account_code) for line in gift.lines] == [
        ("Stripe Clearing", "1010"), ("Processor Fees", "6000"), ("Gifts:Single", "4530")]
    assert chart()[Account.DONATION_REVENUE].ref(Stream.RECURRING_DONATION).name == "Gifts"  # not split: unlisted
    monkeypatch.setitem(app.config, "SETTINGS", replace(app.config["SETTINGS"],
                                                        extra={"accounting_accounts": {"revenue": {"code": "1"}}}))
    with pytest.raises(AccountMappingInvalid, match="'revenue' is not an account"):
        chart()


def test_major_units_use_the_currency_decimals() -> None:
    assert [major(5, "USD"), major(-1, "USD"), major(123456, "EUR"), major(1234, "KWD"), major(-7, "JPY")] == [
        "0.05", "-0.01", "1234.56", "1.234", "-7"]
