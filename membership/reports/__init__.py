"""Finance reports (REVENUE.md "Reports finance staff need"): live SQL over the tables
the webhook workers keep, each with a name and version, as JSON or CSV.

So far: the MRR roll-forward with its FX line (report 4, without cohorts). Shape of
every report module: a pure query function returning dataclasses, a schema for the
API, and one operation in views.py.
"""
