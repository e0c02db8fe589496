"""INSERT ... ON CONFLICT DO NOTHING [RETURNING] for thousands of rows in one statement.

Why not executemany: SQLAlchemy turns it into multi-row VALUES with one placeholder per
cell, and psycopg re-parses that long text for every batch; at 100,000 readers (and
200,000 opt-ins) that parsing alone took more time than PostgreSQL's work. On
PostgreSQL each column goes as one typed array instead (`SELECT * FROM unnest(...)`),
so a chunk is one short statement. SQLite (the embedded default, small imports) keeps
the plain executemany.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import bindparam, cast, column, func, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection


def insert_rows(conn: Connection, model: Any, rows: Sequence[dict[str, Any]], conflict: Sequence[str] | None = None,
                returning: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    """Insert `rows` (same keys each); skip conflicts on `conflict`; the `returning`
    values of the rows actually inserted (empty without `returning`)."""
    if not rows:
        return []
    if conn.dialect.name != "postgresql":
        stmt = sqlite_insert(model)
        if conflict is not None:
            stmt = stmt.on_conflict_do_nothing(index_elements=list(conflict))
        if not returning:
            conn.execute(stmt, list(rows))
            return []
        return [tuple(r) for r in conn.execute(stmt.returning(*returning), list(rows))]
    table = model.__table__
    names = list(rows[0])
    arrays = [cast(bindparam(f"v{i}", [row[name] for row in rows]), ARRAY(table.c[name].type))
              for i, name in enumerate(names)]
    source: Any = select(*[column(name) for name in names]).select_from(
        func.unnest(*arrays).table_valued(*names).render_derived())
    pg = pg_insert(model).from_select(names, source)
    if conflict is not None:
        pg = pg.on_conflict_do_nothing(index_elements=list(conflict))
    if not returning:
        conn.execute(pg)
        return []
    return [tuple(r) for r in conn.execute(pg.returning(*returning))]
