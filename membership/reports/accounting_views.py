"""The journal export as an operation: JSON lists the journals and their lines (minor
units); CSV is the file QuickBooks Online or Xero imports (major units)."""

from __future__ import annotations

from flask import Response

from membership.api import operation
from membership.reports import accounting, accounting_csv, journal_store
from membership.reports.accounting_schemas import JournalExportOut, JournalExportQuery, JournalLineOut, JournalOut
from membership.reports.blueprint import bp
from membership.reports.csv_out import csv_file_response, csv_response
from membership.staff.auth import require_permission


@operation(bp, "/journal-export", "GET", summary="The journal for QuickBooks Online or Xero, one currency",
           tag="reports", query=JournalExportQuery, response=JournalExportOut,
           security=require_permission("reports:read"), errors=(409,), also_produces=("text/csv",))
def journal_export(query: JournalExportQuery) -> JournalExportOut | Response:
    """Journals whose accounting month is in [start, end) (first days of months), each
    balanced; 409 if one does not balance in the currency (the import would refuse it)."""
    if query.format == "csv":
        return _csv(query)
    export = accounting.journal_export(query.start, query.end, query.currency)
    return JournalExportOut(report=accounting.NAME, version=accounting.VERSION, target=query.target,
                            currency=export.currency, start=export.start, end=export.end,
                            journals=[_journal_out(j) for j in export.journals], count=len(export.journals))


def _csv(query: JournalExportQuery) -> Response:
    """The file name also says the target and currency (two files of one month must not
    collide); X-Report stays the report's own name."""
    name = f"{accounting.NAME}-{query.target}-{query.currency}"
    if accounting_csv.supported():  # PostgreSQL writes the lines (~120k a month), closed months from their copy
        body = journal_store.csv_file(query.start, query.end, query.currency, query.target)
        response = csv_file_response(name, accounting.VERSION, query.start, query.end, body)
    else:
        header = accounting.QUICKBOOKS_HEADER if query.target == "quickbooks" else accounting.XERO_HEADER
        rows = accounting.csv_rows(query.start, query.end, query.currency, query.target)
        response = csv_response(name, accounting.VERSION, query.start, query.end, header, rows)
    response.headers["X-Report"] = f"{accounting.NAME}/{accounting.VERSION}"
    return response


def _journal_out(journal: accounting.ExportJournal) -> JournalOut:
    """Built without re-validation (`model_construct`): every field comes typed from the
    query, and a month is ~40k journals and ~120k lines."""
    return JournalOut.model_construct(
        journal_id=journal.journal_id, journal_no=journal.journal_no, kind=journal.kind,
        occurred_at=journal.occurred_at, period=journal.period, date=journal.date, memo=journal.memo,
        name=journal.name, debits_minor=journal.debits_minor, credits_minor=journal.credits_minor,
        lines=[JournalLineOut.model_construct(entry_id=line.entry_id, account=line.account, stream=line.stream,
                                              account_name=line.account_name, account_code=line.account_code,
                                              debit_minor=line.debit_minor, credit_minor=line.credit_minor)
               for line in journal.lines])
