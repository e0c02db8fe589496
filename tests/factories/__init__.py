"""factory_boy factories per domain, bound to the test's `db.session` (savepoint or committed)."""
