"""Accounting exports (REVENUE.md report 7): the journal, as QuickBooks Online and Xero
import it.

What is exported: every journal transaction whose `period` (the accounting month it
posts to) falls in [start, end), one exported journal per transaction, one line per
ledger entry in the asked currency. Periods are whole months (the schema refuses a
start or end that is not a first of month) because `period` is a month: a day range
would either split a month or silently widen to whole months.

One file is one currency. QuickBooks Online and Xero journals are single-currency
(a foreign-currency journal needs the multicurrency feature and an exchange rate per
journal, which we do not have to give), and our groups balance per currency, so each
journal's lines in one currency balance on their own. Amounts are major units with
the currency's decimals (`membership.money.decimals`): 2500 USD is `25.00`, 500 JPY
is `500`.

Journal date: the outlet-local date of the event, unless the event's month was closed
when it posted (then `period` is a later month): then the first day of `period`, so the
accounting system books it in the open month our ledger booked it in and does not try
to write into a month finance has locked there too.

Accounts: `DEFAULT_CHART` maps our `Account` chart to names (QuickBooks matches on
name) and codes (Xero matches on code). Revenue, contra-revenue, deferred revenue and
fee accounts are split by the entry's stream so finance sees memberships and each kind
of donation apart: as QuickBooks sub-accounts (`Donation Revenue:Recurring Donations`,
QuickBooks' own `Parent:Child` form) with codes base + 1..4 (4102). Stripe clearing and
bank are real single balances and are not split. Settings can replace any account's
mapping: `extra["accounting_accounts"] = {"donation_revenue": {"name": "Gifts", "code":
"4500", "streams": {"recurring_donation": {"name": "Gifts:Monthly", "code": "4510"}}}}`.
A replaced account is split only by the `streams` it lists (others post to it unsplit);
a missing name or code keeps the default's.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from itertools import groupby
from operator import itemgetter
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import String, select, type_coerce

from membership.enums import Stream
from membership.errors import DomainError
from membership.extensions import db
from membership.identity.models import Reader
from membership.ledger.journal import outlet_zone
from membership.ledger.models import Account, JournalTransaction, LedgerEntry
from membership.money import decimals
from membership.reports.periods import without_jit

NAME, VERSION = "journal-export", 1
QUICKBOOKS_HEADER: tuple[str, ...] = ("Journal No", "Journal Date", "Account Name", "Debits", "Credits", "Description", "Name")
XERO_HEADER: tuple[str, ...] = ("Narration", "Date", "Description", "AccountCode", "TaxRate", "Amount")
XERO_TAX_RATE = "Tax Exempt"  # journal lines move money between our own accounts: no sales tax on them


class AccountMappingInvalid(DomainError):
    """`accounting_accounts` in settings is malformed: the server's configuration, not the request."""

    status, title, type_slug = 500, "Account mapping misconfigured", "account-mapping-invalid"


class UnbalancedExport(DomainError):
    """A journal's lines do not balance in the currency: the import would reject it."""

    status, title, type_slug = 409, "Unbalanced journal", "unbalanced-journal"


@dataclass(frozen=True)
class AccountRef:
    name: str
    code: str


@dataclass(frozen=True)
class AccountMapping:
    """One account's export name/code and, per stream, the sub-account it splits into."""

    base: AccountRef
    streams: Mapping[Stream, AccountRef]

    def ref(self, stream: Stream | None) -> AccountRef:
        return self.streams.get(stream, self.base) if stream is not None else self.base


STREAM_SUFFIX = {Stream.MEMBERSHIP: (1, "Memberships"), Stream.RECURRING_DONATION: (2, "Recurring Donations"),
                 Stream.ONE_TIME_DONATION: (3, "One-time Donations"), Stream.OTHER: (4, "Other")}
UNSPLIT = frozenset({Account.STRIPE_CLEARING, Account.BANK})
_DEFAULT_REFS = {
    Account.BANK: AccountRef("Bank", "1000"),
    Account.STRIPE_CLEARING: AccountRef("Stripe Clearing", "1010"),
    Account.DEFERRED_REVENUE: AccountRef("Deferred Revenue", "2400"),
    Account.MEMBERSHIP_REVENUE: AccountRef("Membership Revenue", "4000"),
    Account.DONATION_REVENUE: AccountRef("Donation Revenue", "4100"),
    Account.OTHER_REVENUE: AccountRef("Other Revenue", "4200"),
    Account.REFUNDS: AccountRef("Refunds", "4900"),
    Account.CHARGEBACKS: AccountRef("Chargebacks", "4910"),
    Account.PROCESSOR_FEES: AccountRef("Processor Fees", "6100"),
    Account.DISPUTE_FEES: AccountRef("Dispute Fees", "6110"),
}


def _split(ref: AccountRef) -> dict[Stream, AccountRef]:
    return {stream: AccountRef(f"{ref.name}:{label}", str(int(ref.code) + n))
            for stream, (n, label) in STREAM_SUFFIX.items()}


DEFAULT_CHART = {account: AccountMapping(ref, {} if account in UNSPLIT else _split(ref))
                 for account, ref in _DEFAULT_REFS.items()}


def _ref(raw: Any, fallback: AccountRef, where: str) -> AccountRef:
    if not isinstance(raw, dict) or not all(isinstance(raw.get(k, ""), str) for k in ("name", "code")):
        raise AccountMappingInvalid(f"accounting_accounts: {where} must be {{'name': str, 'code': str}}")
    return AccountRef(raw.get("name") or fallback.name, raw.get("code") or fallback.code)


def _override(account: str, raw: Any) -> tuple[Account, AccountMapping]:
    if account not in {a.value for a in Account}:
        raise AccountMappingInvalid(f"accounting_accounts: '{account}' is not an account "
                                    f"({', '.join(a.value for a in Account)})")
    base = _ref(raw, _DEFAULT_REFS[Account(account)], account)
    streams = raw.get("streams", {})
    if not isinstance(streams, dict) or not set(streams) <= {s.value for s in Stream}:
        raise AccountMappingInvalid(f"accounting_accounts: {account}.streams must map streams "
                                    f"({', '.join(s.value for s in Stream)}) to accounts")
    return Account(account), AccountMapping(base, {Stream(s): _ref(r, base, f"{account}.streams.{s}")
                                                   for s, r in streams.items()})


def chart() -> dict[Account, AccountMapping]:
    """The defaults with the settings' `accounting_accounts` laid over them."""
    raw = current_app.config["SETTINGS"].extra.get("accounting_accounts") or {}
    if not isinstance(raw, dict):
        raise AccountMappingInvalid("accounting_accounts must map account names to {'name', 'code'}")
    return {**DEFAULT_CHART, **dict(_override(k, v) for k, v in raw.items())}


@dataclass(frozen=True, slots=True)  # slots: one object per line, ~120k a month
class ExportLine:
    entry_id: int
    account: str
    stream: str | None
    account_name: str
    account_code: str
    amount_minor: int  # debit positive, credit negative, as in the ledger

    @property
    def debit_minor(self) -> int:
        return max(self.amount_minor, 0)

    @property
    def credit_minor(self) -> int:
        return max(-self.amount_minor, 0)


@dataclass(frozen=True, slots=True)  # slots: one object per line, ~120k a month
class ExportJournal:
    journal_id: int
    journal_no: str
    kind: str
    occurred_at: datetime
    period: date
    date: date
    memo: str
    name: str
    lines: list[ExportLine]

    @property
    def debits_minor(self) -> int:
        return sum(line.debit_minor for line in self.lines)

    @property
    def credits_minor(self) -> int:
        return sum(line.credit_minor for line in self.lines)


@dataclass(frozen=True)
class JournalExport:
    start: date
    end: date
    currency: str
    journals: list[ExportJournal]


def journal_date(occurred_at: datetime, period: date, zone: ZoneInfo | None = None) -> date:
    """The event's local date, or the first day of the later open month it was moved to.
    `zone` (the outlet's) can be passed in by callers converting many journals."""
    local = occurred_at.astimezone(zone or outlet_zone()).date()
    return local if local.replace(day=1) == period else period


def journal_export(start: date, end: date, currency: str) -> JournalExport:
    """One export journal per journal transaction of the months [start, end) with lines
    in `currency`, oldest first; refuses (409) if one of them does not balance."""
    refs, zone = _refs(chart()), outlet_zone()
    journals: list[ExportJournal] = []
    for journal_no, day, first, lines in _journals(start, end, currency, zone):
        jid, kind, at, period, memo, _name, _email = first[:7]
        journals.append(ExportJournal(jid, journal_no, kind, at, period, day, memo, _who(first), [
            ExportLine(entry_id, account, stream, ref.name, ref.code, int(amount))
            for *_journal, entry_id, account, stream, amount in lines for ref in (refs[(account, stream)],)]))
    return JournalExport(start, end, currency, journals)


def csv_rows(start: date, end: date, currency: str, target: str) -> list[tuple[str | Decimal, ...]]:
    """The import file's rows (QuickBooks or Xero layout) straight from the query's tuples:
    no per-line objects in between (a month is ~120k lines at 100k readers, and those
    objects cost more in allocation and garbage collection than the file itself).
    Refuses (409) like `journal_export` if a journal does not balance. Amounts are
    Decimals (numbers to the CSV writer, so a negative one is not neutralised as text)."""
    refs, text = _refs(chart()), formatter(currency)

    def fmt(amount_minor: int) -> Decimal:
        return Decimal(text(amount_minor))

    line = _quickbooks_line if target == "quickbooks" else _xero_line
    out: list[tuple[str | Decimal, ...]] = []
    for journal_no, day, first, lines in _journals(start, end, currency, outlet_zone()):
        head = (journal_no, day.isoformat(), first[4], _who(first))
        out.extend(line(head, refs[(row[8], row[9])], row[10], fmt) for row in lines)
    return out


def _journals(start: date, end: date, currency: str, zone: ZoneInfo) -> list[tuple[str, date, Any, list[Any]]]:
    """(journal no, journal date, first line, lines) per journal, the query's lines
    grouped (they come ordered by journal, so each journal's are consecutive); refuses
    the export if one does not balance in the currency."""
    journals = []
    for jid, group in groupby(_lines(start, end, currency), key=itemgetter(0)):
        lines = list(group)
        journals.append((f"M-{jid}", journal_date(lines[0][2], lines[0][3], zone), lines[0], lines))
    unbalanced = [no for no, _day, _first, lines in journals if sum(row[10] for row in lines)]
    if unbalanced:
        raise UnbalancedExport(f"journals {', '.join(unbalanced)} do not balance in {currency}")
    return journals


def _who(first: Any) -> str:
    """The journal's Name column: the reader's name, else their email, else empty."""
    return str(first[5] or first[6] or "")


def _lines(start: date, end: date, currency: str) -> Sequence[Any]:
    """The lines, ordered by journal, as plain tuples: a Core execute (no ORM row
    loading) with account and stream left as their stored strings (no enum round trip
    per line; `_refs` is keyed by those strings). A month is ~120k lines at 100k readers."""
    without_jit()  # JIT compiled this join for ~65 ms of its ~0.5 s, saving nothing
    return db.session.connection().execute(
        select(JournalTransaction.id, JournalTransaction.kind, JournalTransaction.occurred_at,
               JournalTransaction.period, JournalTransaction.memo, Reader.name, Reader.email,
               LedgerEntry.id, type_coerce(LedgerEntry.account, String), type_coerce(LedgerEntry.stream, String),
               LedgerEntry.amount_minor)
        .join(JournalTransaction, JournalTransaction.id == LedgerEntry.transaction_id)
        .outerjoin(Reader, Reader.id == JournalTransaction.reader_id)
        .where(JournalTransaction.period >= start, JournalTransaction.period < end, LedgerEntry.currency == currency)
        .order_by(JournalTransaction.period, JournalTransaction.occurred_at, JournalTransaction.id, LedgerEntry.id)
    ).all()


def _refs(accounts: Mapping[Account, AccountMapping]) -> dict[tuple[str, str | None], AccountRef]:
    """(account value, stream value or None) -> its export account: every pair, resolved once."""
    return {(account.value, stream.value if stream else None): mapping.ref(stream)
            for account, mapping in accounts.items() for stream in (None, *Stream)}


def major(amount_minor: int, currency: str) -> str:
    """Minor units as a plain major-unit string with the currency's decimals: 2500 USD ->
    '25.00', 500 JPY -> '500', -1 USD -> '-0.01'. Integer arithmetic, no floats."""
    return formatter(currency)(amount_minor)


def formatter(currency: str) -> Callable[[int], str]:
    """`major` for one currency, its decimals looked up once (a file formats ~120k amounts)."""
    places = decimals(currency)
    scale = 10**places

    def fmt(amount_minor: int) -> str:
        sign, units = ("-" if amount_minor < 0 else ""), abs(amount_minor)
        if places == 0:
            return f"{sign}{units}"
        whole, frac = divmod(units, scale)
        return f"{sign}{whole}.{frac:0{places}d}"
    return fmt


def _quickbooks_line(head: tuple[str, str, str, str], ref: AccountRef, amount: int,
                     fmt: Callable[[int], Decimal]) -> tuple[str | Decimal, ...]:
    """One row per line; the amount positive in Debits or in Credits, the other cell empty."""
    journal_no, day, memo, name = head
    return (journal_no, day, ref.name, fmt(amount) if amount > 0 else "", fmt(-amount) if amount < 0 else "",
            memo, name)


def _xero_line(head: tuple[str, str, str, str], ref: AccountRef, amount: int,
               fmt: Callable[[int], Decimal]) -> tuple[str | Decimal, ...]:
    """One row per line, signed (debit positive); Xero groups a journal's lines by Narration
    (and Date), so the narration starts with the journal number, unique per journal."""
    journal_no, day, memo, _name = head
    return (f"{journal_no} {memo}".strip(), day, memo, ref.code, XERO_TAX_RATE, fmt(amount))
