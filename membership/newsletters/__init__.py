"""newsletters domain."""
