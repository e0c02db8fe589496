"""The processor-fee model for "cover the fees", in one place and setting-free.

Stripe's standard card pricing: 2.9% + 30 minor units per successful charge. To
have the newsroom receive `amount` after the fee, the donor pays `total` with
total - (0.029 * total + 30) >= amount, i.e. total = ceil((amount + 30) / 0.971);
the fee part is total - amount. Integer arithmetic only (no floats in money).
The fixed part is 30 minor units in every currency (30 cents, 30 euro cents; 30 yen
for a zero-decimal currency, where there are no cents to round to): an estimate
shown to the donor, never an accounting figure (fees booked come from Stripe's
balance transactions).
"""

from __future__ import annotations

FEE_PERCENT_THOUSANDTHS = 29  # 2.9 %
FEE_FIXED_MINOR = 30


def fee_to_cover(amount_minor: int) -> int:
    """The extra the donor adds so that `amount_minor` arrives after the fee."""
    if amount_minor <= 0:
        return 0
    numerator = (amount_minor + FEE_FIXED_MINOR) * 1000
    denominator = 1000 - FEE_PERCENT_THOUSANDTHS
    total = -(-numerator // denominator)  # ceiling division
    return total - amount_minor
