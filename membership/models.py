"""Imports every domain's models so metadata (Alembic, tests) sees the whole schema."""

from membership.billing import models as billing_models
from membership.billing.adoption import models as adoption_models
from membership.identity import models as reader_models
from membership.integrations import models as integration_models
from membership.ledger import models as ledger_models
from membership.mail import models as mail_models
from membership.newsletters import models as newsletter_models
from membership.readers.importing import models as import_models
from membership.reports import rollup_models as report_rollup_models
from membership.staff import models as staff_models

__all__ = [
    "adoption_models",
    "billing_models",
    "import_models",
    "integration_models",
    "ledger_models",
    "mail_models",
    "newsletter_models",
    "reader_models",
    "report_rollup_models",
    "staff_models",
]
