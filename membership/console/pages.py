"""Importing this module registers every console page module's routes on the blueprint."""

from membership.console.blueprint import bp

__all__ = ["bp"]
