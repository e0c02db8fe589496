"""Reader pages: server-rendered over the same services as the reader API.

Importing this package registers every page module's routes on the one blueprint.
"""

# Importing a page module registers its routes: account, sign-in, embeds and the stored
# language, the support page, join and Checkout returns, donate, gift and redeem.
from membership.readers.pages import (  # noqa: F401
    account,
    account_billing,
    account_changes,
    donate,
    embed,
    gift,
    home,
    join,
    language,
    receipts,
    signin,
    welcome,
)
from membership.readers.pages.blueprint import bp

__all__ = ["bp"]
