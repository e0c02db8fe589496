"""Resource families; importing this package registers all routes and hooks."""

from . import (  # noqa: F401
    catalog,
    checkout,
    clocks,
    coupons,
    customers,
    discounts,
    disputes,
    events,
    invoice_api,
    invoices,
    ledger,
    lifecycle,
    payment_methods,
    payments,
    payouts,
    portal,
    refunds,
    sub_update,
    subscriptions,
    webhook_endpoints,
)
