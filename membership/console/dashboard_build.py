"""Builds each dashboard section (charts and tables) from the figures of dashboard_data."""

from __future__ import annotations

from datetime import date

from membership.console import dashboard_data as data
from membership.console.charts import Chart, Series
from membership.console.dashboard_sections import (
    DONOR_KINDS,
    MOVEMENTS,
    STREAMS,
    Cell,
    Money,
    Section,
    Table,
    count_cell,
    drill,
    month_cell,
    month_label,
    month_param,
    rate_text,
    text_cell,
    unit_words,
    view_currency,
)
from membership.reports import churn, donors


def mrr_section(f: data.Filters, mrr: data.MrrData, members: churn.Churn) -> Section:
    money, labels = Money(f.unit), [month_label(m) for m in f.months]
    paying = {m.month: m.paying_end for m in members.months}
    table = Table("mrr", f"Membership MRR and paying members at each month's end ({unit_words(f)})",
                  ["Month", f"MRR at month end ({f.unit})", "Paying members at month end"],
                  ["month", "mrr_end_minor", "paying_members_end"])
    first = members.months[0].paying_start if members.months else 0
    table.rows.append([text_cell(f"Start ({f.start.isoformat()})"), money.cell(mrr.start_minor), count_cell(first)])
    for m in mrr.months:
        table.rows.append([month_cell(m.month), money.cell(m.end_minor), count_cell(paying.get(m.month, 0))])
    charts = [
        Chart("chart-mrr", f"Membership MRR ({unit_words(f)})",
              f"Monthly recurring revenue from memberships at the end of each month, {labels[0]} to {labels[-1]}: "
              f"{money.text(mrr.start_minor)} at the start, {money.text(mrr.end_minor)} at the end.",
              labels, [Series(f"MRR ({f.unit})", [m.end_minor for m in mrr.months])],
              fmt=money.text, tick=money.tick, axis_label=f"{f.unit} per month"),
        Chart("chart-members", "Paying members",
              f"Readers paying for a membership at the end of each month (any currency): {first:,} at the start, "
              f"{members.months[-1].paying_end if members.months else 0:,} at the end.",
              labels, [Series("Paying members", [paying.get(m, 0) for m in f.months])],
              fmt=lambda v: f"{v:,.0f}", tick=lambda v: f"{v:,.0f}", axis_label="Readers"),
    ]
    return Section("mrr", "MRR and members", "Membership MRR (net of discounts) at each month's end, and the readers "
                   "paying for a membership then.", table, charts, note=mrr.missing_rate)


def movements_section(f: data.Filters, mrr: data.MrrData) -> Section:
    money, labels = Money(f.unit), [month_label(m) for m in f.months]
    kinds = MOVEMENTS + ([("fx", "FX (rate changes)")] if f.converted else [])
    table = Table("movements", f"MRR movements per month ({unit_words(f)})", ["Month", *(n for _, n in kinds), "Net"],
                  ["month", *(f"{k}_minor" for k, _ in kinds), "net_minor"])
    for m in mrr.months:
        cells = [money.cell(m.movements.get(k, 0), _movement_link(f, m.month, k, m.movements.get(k, 0)))
                 for k, _ in kinds]
        table.rows.append([month_cell(m.month), *cells, money.cell(sum(m.movements.values()))])
    table.foot.append([text_cell("Total"), *(money.cell(mrr.movements.get(k, 0)) for k, _ in kinds),
                       money.cell(sum(mrr.movements.values()))])
    shown = [(k, n) for k, n in kinds if any(m.movements.get(k, 0) for m in mrr.months)]
    table.hidden = {i + 1 for i, (k, _) in enumerate(kinds) if k in ("pause", "resume") and (k, _) not in shown}
    chart = Chart("chart-movements", f"MRR movements ({unit_words(f)})",
                  "Each month's MRR gained (above zero: new, reactivation, expansion) and lost (below zero: "
                  f"contraction, churn). Over the range: {_summary(money, mrr)}.",
                  labels, [Series(n, [m.movements.get(k, 0) for m in mrr.months]) for k, n in shown],
                  kind="stacked", fmt=money.text, tick=money.tick, axis_label=f"{f.unit} per month")
    return Section("movements", "New, expansion, contraction, churn and reactivation",
                   "MRR roll-forward movements; start + movements = end, exactly. Figures link to the readers "
                   "behind them.", table, [chart], note=mrr.missing_rate)


def _movement_link(f: data.Filters, month: date, kind: str, amount: int) -> str | None:
    if kind == "fx" or not amount:
        return None
    return drill("movements", month=month_param(month), kind=kind, currency=view_currency(f))


def _summary(money: Money, mrr: data.MrrData) -> str:
    return ", ".join(f"{name.lower()} {money.text(mrr.movements.get(kind, 0))}" for kind, name in MOVEMENTS[:5])


def cash_section(f: data.Filters, cash: data.CashData) -> Section:
    money, labels = Money(f.unit), [month_label(m) for m in f.months]
    streams = cash.streams or ["membership"]
    table = Table("cash", f"Net sales per month and stream ({unit_words(f)})",
                  ["Month", *(STREAMS.get(s, s) for s in streams), "Total"],
                  ["month", *(f"{s}_minor" for s in streams), "total_minor"])
    for m in f.months:
        row = cash.net_sales.get(m, {})
        cells = [money.cell(row.get(s, 0), drill("charges", month=month_param(m), stream=s,
                                                   currency=view_currency(f)) if row.get(s, 0) else None)
                 for s in streams]
        table.rows.append([month_cell(m), *cells, money.cell(sum(row.values()))])
    table.foot.append([text_cell("Total"), *(money.cell(sum(cash.net_sales.get(m, {}).get(s, 0) for m in f.months))
                                             for s in streams),
                       money.cell(sum(sum(r.values()) for r in cash.net_sales.values()))])
    chart = Chart("chart-cash", f"Revenue by stream, cash ({unit_words(f)})",
                  "Net sales (charges less refunds and disputes) received each month, stacked by stream.",
                  labels, [Series(STREAMS.get(s, s), [cash.net_sales.get(m, {}).get(s, 0) for m in f.months])
                           for s in streams], kind="stacked", fmt=money.text, tick=money.tick,
                  axis_label=f"{f.unit} per month")
    return Section("cash", "Revenue by stream per month (cash)", _cash_intro(f), table, [chart],
                   note=cash.missing_rate)


def _cash_intro(f: data.Filters) -> str:
    text = "Net sales from the monthly cash summary: gross charges less refunds and disputes, by accounting month."
    return text + (" Converted at each month's last-day rate." if f.converted else "")


def recognition_section(f: data.Filters, cash: data.CashData) -> Section:
    money, labels = Money(f.unit), [month_label(m) for m in f.months]
    table = Table("recognition", f"Membership cash, recognised revenue and deferred revenue ({unit_words(f)})",
                  ["Month", "Cash received (net sales)", "Recognised revenue", "Deferred at month end"],
                  ["month", "cash_minor", "recognized_minor", "deferred_end_minor"])
    for m in f.months:
        table.rows.append([month_cell(m), money.cell(cash.membership_cash.get(m, 0)),
                           money.cell(cash.recognized.get(m, 0)), money.cell(cash.deferred_closing.get(m, 0))])
    last = f.months[-1]
    table.foot.append([text_cell("Total"), money.cell(sum(cash.membership_cash.values())),
                       money.cell(sum(cash.recognized.values())), money.cell(cash.deferred_closing.get(last, 0))])
    series = [Series("Cash received", [cash.membership_cash.get(m, 0) for m in f.months]),
              Series("Recognised", [cash.recognized.get(m, 0) for m in f.months]),
              Series("Deferred (balance)", [cash.deferred_closing.get(m, 0) for m in f.months])]
    chart = Chart("chart-recognition", f"Membership: cash, recognised and deferred ({unit_words(f)})",
                  "Membership money received each month, the revenue recognised in it day by day, and what is "
                  "still owed to members (deferred revenue) at each month's end.",
                  labels, series, fmt=money.text, tick=money.tick, axis_label=f.unit)
    return Section("recognition", "Cash, recognised and deferred (membership)",
                   "Cash from the cash summary; recognised and deferred from the deferred revenue roll-forward.",
                   table, [chart], note=cash.missing_rate)


def churn_section(f: data.Filters, report: churn.Churn) -> Section:
    labels = [month_label(m.month) for m in report.months]
    table = Table("churn", "Logo churn and annual renewals per month (all currencies)",
                  ["Month", "Paying at start", "Churned", "Voluntary", "Delinquent", "Annual renewals due",
                   "Renewed", "Lapsed", "Pending"],
                  ["month", "paying_start", "churned", "voluntary", "delinquent", "renewals_came_up", "renewed",
                   "lapsed", "pending"])
    for m in report.months:
        link = drill("movements", month=month_param(m.month), kind="churn") if m.logo_churn.numerator else None
        r = m.annual_renewals
        table.rows.append([month_cell(m.month), count_cell(m.paying_start),
                           Cell(rate_text(m.logo_churn), m.logo_churn.numerator, link),
                           Cell(rate_text(m.voluntary), m.voluntary.numerator),
                           Cell(rate_text(m.delinquent), m.delinquent.numerator), count_cell(r.came_up),
                           Cell(rate_text(r.rate), r.renewed), count_cell(r.lapsed), count_cell(r.pending)])
    chart = Chart("chart-churn", "Logo churn per month",
                  "Share of the members paying at each month's start who churned in it: all, voluntary "
                  "(cancelled) and delinquent (failed payments). Annual renewals are in the table.", labels,
                  [Series("Logo churn %", [_pct(m.logo_churn) for m in report.months]),
                   Series("Voluntary %", [_pct(m.voluntary) for m in report.months]),
                   Series("Delinquent %", [_pct(m.delinquent) for m in report.months])],
                  fmt=lambda v: f"{v:.1f}%", tick=lambda v: f"{v:g}%", axis_label="Percent of paying members")
    return Section("churn", "Churn and renewals", "Logo churn: members paying at the month's start who stopped "
                   "paying in it after a churn; renewals: annual paid periods ending in the month.", table, [chart])


def _pct(r: churn.Rate) -> float | None:
    return float(r.percent) if r.percent is not None else None


def donors_section(f: data.Filters, periods: list[data.DonorPeriod], whole: donors.DonorReport) -> Section:
    table = Table("donors", "Donors per period, each against the period before it",
                  ["Period", "Donors", *(n for _, n in DONOR_KINDS)],
                  ["period", "donors", *(k for k, _ in DONOR_KINDS)])
    labels = []
    for p in periods:
        counts = data.donor_counts(p.report, f)
        label, chart_label = _period_labels(p.start, p.end)
        labels.append(chart_label)
        def link(kind: str, p: data.DonorPeriod = p, counts: dict[str, int] = counts) -> str | None:
            return drill("donors", start=month_param(p.start), end=month_param(data.add_months(p.end, -1)),
                         kind=kind, currency=view_currency(f)) if counts[kind] else None

        table.rows.append([text_cell(label), count_cell(counts["donors"], link("donors")),
                           *(count_cell(counts[k], link(k)) for k, _ in DONOR_KINDS)])
    total = data.donor_counts(whole, f)
    table.foot.append([text_cell(f"Whole range ({f.start.isoformat()} to {f.end.isoformat()})"),
                       count_cell(total["donors"]), *(count_cell(total[k]) for k, _ in DONOR_KINDS)])
    series = [Series(n, [(-1 if k == "lapsed" else 1) * data.donor_counts(p.report, f)[k] for p in periods])
              for k, n in DONOR_KINDS]
    chart = Chart("chart-donors", "Donors: new, retained, reactivated and lapsed",
                  "Donors per period: new, retained and reactivated above zero; donors of the period before who "
                  "did not give again (lapsed) below zero.", labels, series, kind="stacked",
                  fmt=lambda v: f"{abs(v):,.0f} donors", tick=lambda v: f"{v:,.0f}", axis_label="Donors")
    return Section("donors", "Donors: new, retained and lapsed", _donor_intro(f), table, [chart])


def _period_labels(start: date, end: date) -> tuple[str, str]:
    """("Dec 2025–Feb 2026", "Dec–Feb\n2025/26") for the table and the chart's axis."""
    last = data.add_months(end, -1)
    if last == start:
        return month_label(start), month_label(start)
    if last.year == start.year:
        return f"{start:%b}–{last:%b %Y}", f"{start:%b}–{last:%b}\n{start.year}"
    return f"{start:%b %Y}–{last:%b %Y}", f"{start:%b}–{last:%b}\n{start.year}/{last:%y}"


def _donor_intro(f: data.Filters) -> str:
    text = "One-time and recurring gifts; each period is compared with the same number of months before it."
    return text + (" Counted per currency and summed." if f.converted else "")
