"""PostgreSQL 15 in place of Redshift, for the local stack and the tests."""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from rental_analytics.config import DatabaseSettings
from rental_analytics.warehouse.base import Warehouse, WarehouseError
from rental_analytics.warehouse.sqltext import postgres_dateparts, strip_comments, to_postgres

_COPY_CHUNK_ROWS = 50_000

# Redshift analyzes a table made by CREATE TABLE AS or CREATE TEMP TABLE AS as it creates it
# (docs.aws.amazon.com/redshift/latest/dg/r_ANALYZE.html, "Usage notes"); PostgreSQL leaves
# it without statistics, and then guesses: joined with a temp table of 500,000 keys it
# expected 200 and probed an index 500,000 times (a whole-table merge 1.5 s -> 3.2 s). So
# here too, the table is analyzed as it is made, from a sample of 3,000 rows (statistics
# target 10): the default 30,000 took 0.42 s on a temp table of 200,000 listings, 0.05 s so.
_ANALYZE_STATISTICS_TARGET = 10
_CREATE_TABLE_AS = re.compile(
    r"^\s*create\s+(?:temp\s+|temporary\s+)?table\s+([a-z_][a-z0-9_.]*)\s+as\b", re.I
)


def _qualified(table: str) -> sql.Composed:
    parts = table.split(".")
    return sql.SQL(".").join(sql.Identifier(p) for p in parts)


class PostgresWarehouse(Warehouse):
    def __init__(self, settings: DatabaseSettings):
        self._settings = settings
        self._conn = psycopg.connect(
            host=settings.host,
            port=settings.port,
            user=settings.user,
            password=settings.password,
            dbname=settings.database,
            autocommit=True,
            options="-c timezone=UTC",
        )
        self._depth = 0

    def adapt(self, statement: str) -> str:
        return postgres_dateparts(to_postgres(statement))

    @contextmanager
    def transaction(self) -> Iterator[None]:
        with self._conn.transaction():
            yield

    def execute(self, sql_text: str, params: dict[str, Any] | Sequence[Any] | None = None) -> int:
        with self._conn.cursor() as cur:
            cur.execute(sql_text, params)  # type: ignore[arg-type]
            count = cur.rowcount
            created = _CREATE_TABLE_AS.match(strip_comments(sql_text))
            if created:
                cur.execute(f"set default_statistics_target = {_ANALYZE_STATISTICS_TARGET}")
                cur.execute(sql.SQL("analyze {}").format(_qualified(created.group(1))))
                cur.execute("reset default_statistics_target")
            return count

    def query(
        self, sql_text: str, params: dict[str, Any] | Sequence[Any] | None = None
    ) -> tuple[list[str], list[tuple]]:
        try:
            with self._conn.cursor() as cur:
                cur.execute(sql_text, params)  # type: ignore[arg-type]
                columns = [d.name for d in cur.description or []]
                return columns, cur.fetchall() if cur.description else []
        except psycopg.Error as exc:
            raise WarehouseError(f"query failed: {exc}".strip()) from exc

    def copy_parquet(self, table: str, columns: Sequence[str], parquet_path: str) -> int:
        # Deferred: pyarrow (with the pandas it loads) takes 0.4 s to import, and only a COPY
        # needs it: every other user of the warehouse (the CLI, curate, report) starts faster.
        import pyarrow.csv as pa_csv
        import pyarrow.dataset as pa_ds

        files = sorted(str(p) for p in Path(parquet_path).rglob("*.parquet"))
        if not files:
            return 0
        self._check_copy_layout(table, columns)
        dataset = pa_ds.dataset(files, format="parquet")
        copy_sql = sql.SQL("copy {} ({}) from stdin with (format csv, null '')").format(
            _qualified(table), sql.SQL(", ").join(sql.Identifier(c) for c in columns)
        )
        rows = 0
        with self._conn.cursor() as cur, cur.copy(copy_sql) as copy:
            for batch in dataset.to_batches(columns=list(columns), batch_size=_COPY_CHUNK_ROWS):
                buf = io.BytesIO()
                # Strings are always quoted and NULLs left empty, so '' and NULL stay apart.
                pa_csv.write_csv(batch, buf, pa_csv.WriteOptions(include_header=False))
                copy.write(buf.getvalue())
                rows += batch.num_rows
        return rows

    def _check_copy_layout(self, table: str, columns: Sequence[str]) -> None:
        """Redshift's COPY from Parquet takes no column list and maps by position (AWS docs:
        copy-usage_notes-copy-from-columnar): the table must have exactly ``columns``, in
        order. Checked here too, so a layout Redshift would refuse fails locally."""
        _, rows = self.query(
            "select attname from pg_attribute where attrelid = to_regclass(%(t)s)"
            " and attnum > 0 and not attisdropped order by attnum",
            {"t": table},
        )
        actual = [r[0] for r in rows]
        if actual != list(columns):
            raise WarehouseError(
                f"COPY into {table}: its columns are {actual}, the files' {list(columns)}; "
                "COPY from Parquet maps by position, so they must be equal, in order"
            )

    def copy_rows(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
        """Bulk-load rows of Python values (None is NULL) into ``table``; return rows.

        COPY, not INSERT: values travel as data, never in statement text, and a client
        does not parse a statement with thousands of placeholders per batch.
        """
        copy_sql = sql.SQL("copy {} ({}) from stdin").format(
            _qualified(table), sql.SQL(", ").join(sql.Identifier(c) for c in columns)
        )
        count = 0
        with self._conn.cursor() as cur, cur.copy(copy_sql) as copy:
            for row in rows:
                copy.write_row(row)
                count += 1
        return count

    def another(self) -> PostgresWarehouse:
        return PostgresWarehouse(self._settings)

    def close(self) -> None:
        self._conn.close()
