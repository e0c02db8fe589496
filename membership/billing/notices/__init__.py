"""Billing's notices: which renewal-law, trial, card and statement notices are due and
when (the legal policy table), whether one still applies when it is sent, the template
variables of each kind, the staff alerts for windows about to close, and the `mail`
commands. Mail itself only stores, renders and sends what these record."""
