"""What a receipt says about taxes, by the outlet's fiscal status (IRS Publication 1771).

A 501(c)(3) acknowledges the gift with its EIN; when the donor got something back
(member benefits, a tote bag) the receipt states the good-faith value of it and the
deductible part = paid - that value, otherwise that no goods or services were provided.
A fiscally sponsored project says the same through its sponsor. A for-profit outlet
says plainly that nothing it sells or receives is tax-deductible.
"""

from __future__ import annotations

from dataclasses import dataclass

from membership.config import Settings
from membership.money import format_money


@dataclass(frozen=True)
class TaxStatement:
    deductible: bool
    paid: str
    benefit_value: str
    deductible_amount: str
    lines: tuple[str, ...]


def _who(settings: Settings) -> str:
    if settings.fiscal_status == "fiscally_sponsored":
        return (f"{settings.outlet_name} is a fiscally sponsored project of a 501(c)(3) "
                "public charity, our fiscal sponsor, which receives contributions made to us.")
    ein = f" (EIN {settings.outlet_ein})" if settings.outlet_ein else ""
    return f"{settings.outlet_name} is a 501(c)(3) nonprofit organization{ein}."


def tax_statement(settings: Settings, paid_minor: int, benefit_minor: int, currency: str) -> TaxStatement:
    """The sentences a receipt (or a year-end statement) prints about deductibility."""
    benefit = max(0, min(benefit_minor, paid_minor))
    deductible_minor = paid_minor - benefit
    paid, value = format_money(paid_minor, currency), format_money(benefit, currency)
    deductible = format_money(deductible_minor, currency)
    if settings.fiscal_status == "for_profit":
        line = (f"{settings.outlet_name} is not a charitable organization: this payment is "
                "not tax-deductible as a charitable contribution.")
        return TaxStatement(False, paid, value, format_money(0, currency), (line,))
    if benefit == 0:
        detail = "No goods or services were provided in exchange for this contribution."
    else:
        detail = (f"In exchange you received goods or services (member benefits) with an estimated "
                  f"fair-market value of {value}. The amount deductible for federal income tax "
                  f"purposes is limited to {deductible} = {paid} paid - {value} fair-market value of benefits.")
    keep = "Please keep this message for your tax records."
    return TaxStatement(True, paid, value, deductible, (_who(settings), detail, keep))
