"""Finance reports (REVENUE.md "Reports finance staff need"): live SQL over the tables
the webhook workers keep, each with a name and version, as JSON or CSV.

So far: the MRR roll-forward with its FX line (report 4, without cohorts). Shape of
every report module: a pure query function returning dataclasses, a schema for the
API, and one operation in views.py.

Closed months roll up once (docs/reports.md, rollup.py): the cash summary, the deferred
roll-forward and the recognition waterfall read summed rows for the closed months of
their range and compute the open month (and any month a late event dirtied) live.
"""
