"""Database foundations shared by every domain's models.

Why one module: the constraint naming convention, the primary-key and timestamp types
and the UTC handling must be identical in every table, or Alembic's autogenerate and
SQLite/PostgreSQL parity drift apart.
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Annotated, Any

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import JSON, BigInteger, DateTime, Dialect, Integer, MetaData, String, TypeDecorator
from sqlalchemy import Enum as SAEnum
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """The one clock the app reads, so tests and the simulator agree on 'now'."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamptz on PostgreSQL that also comes back timezone-aware from SQLite.

    SQLite drops the offset, so naive values read back are declared UTC here; naive
    values written are refused, because a naive time in a money system is a bug.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime written to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None or value.tzinfo is not None:
            return value
        return value.replace(tzinfo=UTC)


JSONType = JSON().with_variant(JSONB(), "postgresql")
BigIntType = BigInteger().with_variant(Integer(), "sqlite")

intpk = Annotated[int, mapped_column(BigIntType, primary_key=True, autoincrement=True)]
money = Annotated[int, mapped_column(BigInteger, nullable=False)]
currency = Annotated[str, mapped_column(String(3), nullable=False)]
timestamp = Annotated[datetime, mapped_column(UTCDateTime, nullable=False, default=utcnow)]
optional_timestamp = Annotated[datetime | None, mapped_column(UTCDateTime, nullable=True)]


def str_enum(enum_cls: type[enum.Enum], length: int = 32) -> SAEnum:
    """A portable enum column: a VARCHAR plus a CHECK, storing the members' values.

    Values mirror Stripe's strings where Stripe defines them, so no translation table.
    """
    return SAEnum(
        enum_cls,
        native_enum=False,
        create_constraint=True,
        length=length,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
        name=enum_cls.__name__.lower(),
    )


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: dict[Any, Any] = {datetime: UTCDateTime, int: BigInteger}


# Models subclass Base directly (typed, mypy-friendly); the extension shares its metadata.
db = SQLAlchemy(metadata=Base.metadata)
