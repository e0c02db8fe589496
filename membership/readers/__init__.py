"""readers domain."""
