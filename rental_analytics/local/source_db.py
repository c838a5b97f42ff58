"""The local source database `rental_db` (MariaDB in place of Aurora MySQL).

Connections, the schema (``sources/rental_db.sql``) and row counts. Only the local tools
(generator, importer, tests) write here; the pipeline reads the same tables over JDBC.
"""

from __future__ import annotations

import re
from pathlib import Path

import pymysql

from rental_analytics.config import Settings
from rental_analytics.sources.tables import APARTMENTS_TABLES

SCHEMA_FILE = Path(__file__).resolve().parent.parent / "sources" / "rental_db.sql"
_COMMENT = re.compile(r"--[^\n]*")


def connect(settings: Settings) -> pymysql.Connection:
    """A connection to ``rental_db`` over TCP, with ``LOAD DATA LOCAL`` allowed.

    Autocommit is off: callers commit (the importer commits once per file).
    """
    s = settings.source
    return pymysql.connect(
        host=s.host,
        port=s.port,
        user=s.user,
        password=s.password,
        database=s.database,
        charset="utf8mb4",
        local_infile=True,
        autocommit=False,
        connect_timeout=10,
    )


def schema_statements(text: str | None = None) -> list[str]:
    """The statements of the source DDL, comments removed (the DDL holds no literals)."""
    text = SCHEMA_FILE.read_text() if text is None else text
    statements = (s.strip() for s in _COMMENT.sub("", text).split(";"))
    return [s for s in statements if s]


def ensure_schema(settings: Settings) -> None:
    """Create the source tables that do not exist yet (``create table if not exists``)."""
    conn = connect(settings)
    try:
        with conn.cursor() as cur:
            for statement in schema_statements():
                cur.execute(statement)
        conn.commit()
    finally:
        conn.close()


def table_counts(settings: Settings) -> dict[str, int]:
    """Rows per apartments-domain source table, in spec order (0 for a table not created yet)."""
    conn = connect(settings)
    try:
        counts: dict[str, int] = {}
        with conn.cursor() as cur:
            cur.execute(
                "select table_name from information_schema.tables where table_schema = database()"
            )
            existing = {row[0] for row in cur.fetchall()}
            for spec in APARTMENTS_TABLES:
                if spec.name not in existing:  # a fresh database: no schema yet, no rows
                    counts[spec.name] = 0
                    continue
                # Table names come from the specs, validated as plain identifiers.
                cur.execute(f"select count(*) from `{spec.name}`")  # noqa: S608
                counts[spec.name] = int(cur.fetchone()[0])
        conn.rollback()
        return counts
    finally:
        conn.close()


def is_empty(settings: Settings) -> bool:
    """True when every apartments-domain source table has no rows."""
    return not any(table_counts(settings).values())
