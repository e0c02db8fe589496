"""Reader pages: server-rendered over the same services as the reader API.

Importing this package registers every page module's routes on the one blueprint.
"""

from membership.readers.pages import account, account_billing, account_changes, receipts, signin  # noqa: F401  (routes register on import)
from membership.readers.pages import embed, language  # noqa: F401  (embeds and the stored language)
from membership.readers.pages import home, join, welcome  # noqa: F401  (support page, join path, Checkout returns)
from membership.readers.pages.blueprint import bp

__all__ = ["bp"]
