"""Money is (amount_minor: int, currency: str). This module knows how many decimals
each currency has and how to show an amount to a person; nothing else touches floats.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

ZERO_DECIMAL = frozenset(
    ["BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "UGX", "VND", "VUV", "XAF", "XOF", "XPF"]
)
THREE_DECIMAL = frozenset(["BHD", "JOD", "KWD", "OMR", "TND"])
SUPPORTED = frozenset(
    ["USD", "EUR", "GBP", "CAD", "AUD", "NZD", "CHF", "SEK", "NOK", "DKK", "MXN", "BRL", "INR", "ZAR", "SGD", "HKD"]
) | ZERO_DECIMAL | THREE_DECIMAL
SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "CAD": "CA$", "AUD": "A$"}


class MoneyError(ValueError):
    """An amount or currency a person typed that cannot be money."""


def normalize_currency(code: str) -> str:
    upper = (code or "").strip().upper()
    if upper not in SUPPORTED:
        raise MoneyError(f"unknown currency '{code}'")
    return upper


def decimals(currency: str) -> int:
    code = normalize_currency(currency)
    if code in ZERO_DECIMAL:
        return 0
    return 3 if code in THREE_DECIMAL else 2


def to_minor(amount: str | int | Decimal, currency: str) -> int:
    """'12.50' USD -> 1250; '500' JPY -> 500; '5.5' JPY is an error (no cents)."""
    try:
        value = Decimal(str(amount).strip())
    except InvalidOperation:
        raise MoneyError(f"'{amount}' is not an amount") from None
    scaled = value.scaleb(decimals(currency))
    if scaled != scaled.to_integral_value():
        raise MoneyError(f"{currency.upper()} has {decimals(currency)} decimals; '{amount}' has more")
    return int(scaled)


def from_minor(amount_minor: int, currency: str) -> Decimal:
    return Decimal(amount_minor).scaleb(-decimals(currency))


def format_money(amount_minor: int, currency: str) -> str:
    """1250 USD -> '$12.50'; 500 JPY -> '¥500'; 1234500 SEK -> '12,345.00 SEK'."""
    code = normalize_currency(currency)
    places = decimals(code)
    value = from_minor(abs(amount_minor), code)
    text = f"{value:,.{places}f}"
    sign = "-" if amount_minor < 0 else ""
    symbol = SYMBOLS.get(code)
    return f"{sign}{symbol}{text}" if symbol else f"{sign}{text} {code}"


def stripe_currency(currency: str) -> str:
    """Stripe wants lower-case ISO codes."""
    return normalize_currency(currency).lower()
