"""The staff console: server-rendered pages at /staff over the same services as the
staff API (sign-in with a second factor, dashboard, members, catalogue, newsletters,
operations). It sits above every domain package and the reports (docs/architecture.md)."""
