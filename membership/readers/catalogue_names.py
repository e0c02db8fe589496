"""Names that are data, listed so `make translations` offers them to translators.

Tier and newsletter names live in Stripe and in the database, in the newsroom's own words;
pages and mail pass them through `|named` (`membership.i18n.named`), which shows a catalog's
translation when there is one. A newsroom that renames a tier or adds a newsletter adds its
name here and translates it in each language's `.po`; until then the name shows as written.
These are the demo outlet's names (`membership/demo`).
"""

from flask_babel import lazy_gettext as N_

CATALOGUE_NAMES = (
    N_("Member"),
    N_("Sustaining member"),
    N_("Recurring gift"),
    N_("One-time gift"),
    N_("The Daily Brief"),
    N_("Weekend Reads"),
    N_("Investigations"),
)
