"""The warehouse interface shared by the PostgreSQL (local) and Redshift (AWS) engines."""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rental_analytics.warehouse.sqltext import split_statements, verb


class WarehouseError(RuntimeError):
    """A warehouse statement failed; the message names the file or table involved."""


def sql_dir() -> Path:
    """The redshift/ SQL: RENTALS_SQL_DIR if set; else the copy an installed wheel carries
    (``rental_analytics/redshift``, see setup.py), as in Glue; else redshift/ beside the
    package in a checkout (and an editable install)."""
    env = os.environ.get("RENTALS_SQL_DIR")
    if env:
        return Path(env)
    package = Path(__file__).resolve().parents[1]
    packaged = package / "redshift"
    if packaged.is_dir():
        return packaged
    return package.parent / "redshift"


class Warehouse(ABC):
    """Runs the project's Redshift SQL on one engine.

    Implementations provide a connection, a transaction scope, and bulk loading of Parquet
    into a table; everything else (DDL, merges, views) is the same SQL text for both.
    """

    @abstractmethod
    def adapt(self, statement: str) -> str:
        """Engine-specific rewrite of one statement of redshift/ SQL (DDL physical design)."""

    @abstractmethod
    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All statements inside commit together or not at all."""

    @abstractmethod
    def execute(self, sql: str, params: dict[str, Any] | Sequence[Any] | None = None) -> int:
        """Run one statement; return the number of rows it affected (-1 if unknown)."""

    @abstractmethod
    def query(
        self, sql: str, params: dict[str, Any] | Sequence[Any] | None = None
    ) -> tuple[list[str], list[tuple]]:
        """Run a query; return column names and rows."""

    @abstractmethod
    def copy_parquet(self, table: str, columns: Sequence[str], parquet_path: str) -> int:
        """Bulk-load the Parquet files under ``parquet_path`` into ``table``; return rows."""

    @abstractmethod
    def another(self) -> Warehouse:
        """A second connection to the same warehouse as the same user: its own session, so
        its statements run beside this one's, and it sees what is committed only."""

    @abstractmethod
    def close(self) -> None: ...

    def __enter__(self) -> Warehouse:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- redshift/ files -------------------------------------------------------------
    def run_file(
        self, path: Path, before_commit: Callable[[], None] | None = None
    ) -> list[tuple[str, int]]:
        """Run every statement of one SQL file in one transaction (``run_statements``)."""
        return self.run_statements(split_statements(path.read_text()), path.name, before_commit)

    def run_statements(
        self,
        statements: Sequence[str],
        source: str,
        before_commit: Callable[[], None] | None = None,
    ) -> list[tuple[str, int]]:
        """Run ``statements`` (a SQL file's, ``split_statements``) in one transaction; an
        error names ``source``, the file.

        ``before_commit`` is called after the last statement, inside the open transaction.
        Returns (verb, rows affected) per statement, e.g. ``("merge", 120)``.
        """
        results: list[tuple[str, int]] = []
        with self.transaction():
            for statement in statements:
                try:
                    results.append((verb(statement), self.execute(self.adapt(statement))))
                except Exception as exc:
                    raise WarehouseError(f"{source}: {exc}") from exc
            if before_commit is not None:
                before_commit()
        return results

    def table_exists(self, schema: str, table: str) -> bool:
        _, rows = self.query(
            "select 1 from information_schema.tables"
            " where table_schema = %(schema)s and table_name = %(table)s",
            {"schema": schema, "table": table},
        )
        return bool(rows)
