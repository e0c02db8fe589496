"""Importing this module registers every console page module's routes on the blueprint."""

from membership.console import (  # noqa: F401  (they register)
    auth,
    catalogue,
    dashboard,
    drilldown,
    importing,
    members,
    newsletters,
    newsletters_lists,
    operations,
    signin,
    totp_pages,
)
from membership.console.blueprint import bp

__all__ = ["bp"]
