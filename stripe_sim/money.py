"""Currency facts: decimals per currency, fees, and human formatting."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

ZERO_DECIMAL = frozenset(["bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv", "xaf", "xof", "xpf"])
THREE_DECIMAL = frozenset(["bhd", "jod", "kwd", "omr", "tnd"])


def decimals(currency: str) -> int:
    c = currency.lower()
    if c in ZERO_DECIMAL:
        return 0
    if c in THREE_DECIMAL:
        return 3
    return 2


def fmt(amount: int, currency: str) -> str:
    """``1050, "usd"`` -> ``"$10.50"``-ish text for descriptions and pages."""
    d = decimals(currency)
    major = Decimal(amount).scaleb(-d)
    symbol = {"usd": "$", "eur": "€", "gbp": "£", "jpy": "¥"}.get(currency.lower())
    text = f"{major:,.{d}f}"
    return f"{symbol}{text}" if symbol else f"{text} {currency.upper()}"


def parse_major(text: str, currency: str) -> int | None:
    """What a person types ("12.50", "1,000") -> minor units; None when unparsable."""
    try:
        value = Decimal(text.replace(",", "").strip())
    except (InvalidOperation, AttributeError):
        return None
    minor = (value.scaleb(decimals(currency))).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return int(minor)


def stripe_fee(amount: int, bps: int, fixed: int) -> int:
    """Percentage (basis points) plus a fixed part, rounded half-up to whole minor units."""
    if amount <= 0:
        return 0
    return int((Decimal(amount) * bps / Decimal(10000)).quantize(Decimal(1), rounding=ROUND_HALF_UP)) + fixed
