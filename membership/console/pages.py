"""Importing this module registers every console page module's routes on the blueprint."""

from membership.console import dashboard, drilldown  # noqa: F401  (they register)
from membership.console import auth, members_search, signin, totp_pages  # noqa: F401  (sign-in, second factor, members)
from membership.console.blueprint import bp

__all__ = ["bp"]
