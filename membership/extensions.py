"""Flask extensions, created unbound here and bound by the factory."""

from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_migrate import Migrate

from membership.db import db

migrate = Migrate(compare_type=True)
limiter = Limiter(key_func=get_remote_address, default_limits=[], headers_enabled=True)

__all__ = ["db", "limiter", "migrate"]
