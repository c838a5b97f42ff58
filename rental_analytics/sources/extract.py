"""Incremental extraction of source tables into raw Parquet batches.

The semantics follow Glue job bookmarks (per-table keys and sort order, output committed
before the bookmark moves), extended where Glue falls short: updated rows are re-extracted
through a modification column, a lookback window, or the parent table's modification
column (SPEC section 3).

Before anything is read, every table is checked against its spec (``sources/drift.py``):
the source catalogue's columns and types for database tables, the headers for landed
files. Drift that fails the job fails it before any table's output is written.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol

from pyspark.sql import Column, DataFrame, Observation, SparkSession
from pyspark.sql import functions as F

from rental_analytics.config import Settings, validate_identifier
from rental_analytics.jobs.concurrent import in_order
from rental_analytics.jobs.faults import kill_point
from rental_analytics.jobs.timing import StepSeconds
from rental_analytics.lake import raw_batch_path
from rental_analytics.sources.bookmarks import BookmarkStore, DomainState, TableBatch
from rental_analytics.sources.drift import (
    SourceColumn,
    compare_landed_headers,
    compare_source_columns,
    source_keys_unique,
)
from rental_analytics.sources.landing import (
    LandingError,
    LandingReader,
    files_bookmark,
    pending_files,
)
from rental_analytics.sources.tables import TABLES_BY_DOMAIN, TableSpec, all_tables
from rental_analytics.storage import remove_tree
from rental_analytics.transforms.common import cast_to_spec


class ExtractError(RuntimeError):
    """Extraction of a table failed; the message names the table."""


# -- predicates (pure) ----------------------------------------------------------------------
def render_literal(value: Any, logical_type: str) -> str:
    """A SQL literal for a bookmark value. Values come from committed bookmark state, typed
    by the column's logical type; anything else is refused rather than quoted blindly."""
    if logical_type in ("int", "bigint"):
        return str(int(value))
    if logical_type.startswith("decimal"):
        return str(Decimal(str(value)))
    if logical_type == "date":
        day = value if isinstance(value, date) else date.fromisoformat(str(value))
        return f"'{day.isoformat()}'"
    if logical_type == "timestamp":
        return f"'{datetime.fromisoformat(str(value)).strftime('%Y-%m-%d %H:%M:%S')}'"
    raise ExtractError(f"bookmark values of type {logical_type!r} are not supported")


def _quote(name: str) -> str:
    return f"`{name}`"  # MySQL-family identifier quoting (Aurora MySQL, MariaDB)


def incremental_predicate(
    spec: TableSpec, state: DomainState, run_date: date, lookback_days: int
) -> str | None:
    """The WHERE clause selecting new and changed rows, or None to read the whole table."""
    bookmark = state.table(spec.name)
    if not bookmark or bookmark.get("last_key") is None:
        return None
    keys = list(spec.bookmark_keys)
    values = bookmark["last_key"]
    if bookmark.get("keys") != keys:
        raise ExtractError(
            f"{spec.name}: bookmark keys changed from {bookmark.get('keys')} to {keys}; "
            "reset the bookmark (`rentals bookmarks reset`) or run a full refresh"
        )
    op = (">=" if spec.bookmark_inclusive else ">") if spec.bookmark_sort == "asc" else (
        "<=" if spec.bookmark_inclusive else "<"
    )  # fmt: skip
    lits = [render_literal(v, spec.column(k).type) for k, v in zip(keys, values, strict=True)]
    if len(keys) == 1:
        clauses = [f"{_quote(keys[0])} {op} {lits[0]}"]
    else:
        cols = ", ".join(_quote(k) for k in keys)
        clauses = [f"({cols}) {op} ({', '.join(lits)})"]
    if spec.modified_column and bookmark.get("modified_watermark"):
        lit = render_literal(bookmark["modified_watermark"], spec.column(spec.modified_column).type)
        # Inclusive: exports are date-only, so a row changed later on the watermark's day
        # carries the same value. Re-reading it is harmless: the load merge is idempotent.
        clauses.append(f"{_quote(spec.modified_column)} >= {lit}")
    if spec.lookback_column:
        since = run_date - timedelta(days=lookback_days)
        clauses.append(f"{_quote(spec.lookback_column)} >= {render_literal(since, 'date')}")
    if spec.parent:
        parent_table, join_col = spec.parent
        parent_spec = next(t for t in TABLES_BY_DOMAIN[spec.domain] if t.name == parent_table)
        parent_mark = state.table(parent_table) or {}
        if parent_spec.modified_column and parent_mark.get("modified_watermark"):
            lit = render_literal(
                parent_mark["modified_watermark"],
                parent_spec.column(parent_spec.modified_column).type,
            )
            changed = f"{_quote(parent_spec.modified_column)} >= {lit}"
            parent_rows = f"select {_quote(join_col)} from {_quote(parent_table)} where {changed}"  # noqa: S608
            clauses.append(f"{_quote(join_col)} in ({parent_rows})")
    return " or ".join(f"({c})" for c in clauses)


def source_query(spec: TableSpec, predicate: str | None) -> str:
    cols = ", ".join(_quote(c) for c in spec.column_names)
    query = f"select {cols} from {_quote(spec.name)}"  # noqa: S608 - validated identifiers
    return f"{query} where {predicate}" if predicate else query


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _later(a: Any, b: Any, logical_type: str) -> Any:
    """The later of two bookmark values (None-safe), compared by type, not as text."""
    if a is None or b is None:
        return b if a is None else a
    return max(a, b, key=lambda v: _sort_value(v, logical_type))


def bookmark_aggregates(spec: TableSpec) -> list[Column]:
    """What the next bookmark needs from a batch: its furthest key (``last_key``) and, with
    a modification column, its latest modification (``modified_watermark``)."""
    keys = list(spec.bookmark_keys)
    agg = F.max if spec.bookmark_sort == "asc" else F.min
    exprs = [agg(F.struct(*[F.col(k) for k in keys])).alias("last_key")]
    if spec.modified_column:
        exprs.append(F.max(spec.modified_column).alias("modified_watermark"))
    return exprs


# Timestamps in the observed aggregates: every digit, as Python's fromisoformat reads it.
_OBSERVED_TIMESTAMPS = "yyyy-MM-dd HH:mm:ss.SSSSSS"


def bookmark_metric(spec: TableSpec) -> Column:
    """``bookmark_aggregates`` as one JSON text: an aggregate a write can observe (a JVM
    object per value otherwise), read back by ``observed_bookmark``."""
    aggregates = F.struct(*bookmark_aggregates(spec))
    return F.to_json(aggregates, {"timestampFormat": _OBSERVED_TIMESTAMPS})


def observed_bookmark(spec: TableSpec, observed: str | None) -> dict[str, Any]:
    """The ``bookmark_aggregates`` of a batch from its ``bookmark_metric``, each value of
    the Python type of its column (int, Decimal, date, datetime); None for no rows."""
    values = json.loads(observed, parse_float=Decimal) if observed else {}
    key = values.get("last_key")
    row: dict[str, Any] = {
        "last_key": None
        if key is None
        else [_observed_value(key.get(k), spec.column(k).type) for k in spec.bookmark_keys]
    }
    if spec.modified_column:
        modified = spec.column(spec.modified_column).type
        row["modified_watermark"] = _observed_value(values.get("modified_watermark"), modified)
    return row


def _observed_value(value: Any, logical_type: str) -> Any:
    if value is None:
        return None
    if logical_type in ("int", "bigint"):
        return int(value)
    if logical_type.startswith("decimal"):
        return Decimal(str(value))
    if logical_type == "date":
        return date.fromisoformat(value)
    if logical_type == "timestamp":
        return datetime.fromisoformat(value)
    raise ExtractError(f"bookmark values of type {logical_type!r} are not supported")


def next_bookmark(
    spec: TableSpec, previous: dict[str, Any] | None, row: Mapping[str, Any], full_refresh: bool
) -> dict[str, Any]:
    """The bookmark after committing a batch whose ``bookmark_aggregates`` are ``row``
    (``observed_bookmark``): the furthest key and watermark seen."""
    keys = list(spec.bookmark_keys)
    last_key = [_json_value(v) for v in row["last_key"]] if row["last_key"] else None
    watermark = _json_value(row["modified_watermark"]) if spec.modified_column else None
    if previous and not full_refresh and previous.get("last_key") is not None:
        if last_key is None:
            last_key = previous["last_key"]
        else:
            pick = max if spec.bookmark_sort == "asc" else min
            types = [spec.column(k).type for k in keys]
            last_key = pick(
                previous["last_key"],
                last_key,
                key=lambda vs: tuple(_sort_value(v, t) for v, t in zip(vs, types, strict=True)),
            )
        if spec.modified_column:
            watermark = _later(
                previous.get("modified_watermark"),
                watermark,
                spec.column(spec.modified_column).type,
            )
    return {
        "keys": keys,
        "sort": spec.bookmark_sort,
        "last_key": last_key,
        "modified_watermark": watermark,
    }


def _sort_value(value: Any, logical_type: str) -> Any:
    if logical_type in ("int", "bigint"):
        return int(value)
    if logical_type.startswith("decimal"):
        return Decimal(str(value))
    return str(value)


# -- I/O ------------------------------------------------------------------------------------
class TableReader(Protocol):
    def read(self, spec: TableSpec, query: str) -> DataFrame: ...

    # Optional: a reader without it (a test double wrapping one query) is not checked for
    # schema drift.
    def source_columns(self, tables: Sequence[str]) -> dict[str, list[SourceColumn]]: ...


# The source's own description of its tables: the same in Aurora MySQL and MariaDB.
_CATALOGUE_QUERY = (
    "select table_name as table_name, column_name as column_name,"
    " column_type as column_type, ordinal_position as ordinal_position,"
    " column_key as column_key"
    " from information_schema.columns where table_schema = database()"
)


class JdbcReader:
    """Reads a source query over JDBC (Aurora MySQL in AWS, MariaDB locally)."""

    def __init__(self, spark: SparkSession, settings: Settings, max_partitions: int = 4):
        self.spark = spark
        self.settings = settings
        self.max_partitions = max_partitions

    def _reader(self):
        s = self.settings
        return (
            self.spark.read.format("jdbc")
            .option("url", s.source_jdbc_url)
            .option("driver", s.source_jdbc_driver)
            .option("user", s.source.user)
            .option("password", s.source.password)
            # Rows per round trip: what a partition holds in memory at once, with MySQL
            # Connector/J only with useCursorFetch=true in the URL (config.py).
            .option("fetchsize", "10000")
        )

    def source_columns(self, tables: Sequence[str]) -> dict[str, list[SourceColumn]]:
        """Each table's columns and types, in table order, from the current database's
        catalogue: one query for all ``tables`` (a table that does not exist has none)."""
        names = ", ".join(f"'{validate_identifier(t, 'table name')}'" for t in tables)
        catalogue = f"{_CATALOGUE_QUERY} and table_name in ({names})"
        rows = self._small_query(catalogue)
        found: dict[str, list[SourceColumn]] = {t: [] for t in tables}
        for r in sorted(rows, key=lambda r: (r["table_name"], int(r["ordinal_position"]))):
            found.setdefault(r["table_name"], []).append(
                SourceColumn(r["column_name"], r["column_type"], r["column_key"] == "PRI")
            )
        return found

    def read(self, spec: TableSpec, query: str) -> DataFrame:
        reader = self._reader()
        pc = spec.partition_column
        if pc:
            bounds_sql = f"select min(`{pc}`) lo, max(`{pc}`) hi, count(*) n from ({query}) q"  # noqa: S608
            (bounds,) = self._small_query(bounds_sql)
            if bounds["n"] and bounds["n"] > 100_000 and bounds["hi"] > bounds["lo"]:
                parts = min(self.max_partitions, int(bounds["n"]) // 100_000 + 1)
                reader = (
                    reader.option("partitionColumn", pc)
                    .option("lowerBound", str(bounds["lo"]))
                    .option("upperBound", str(bounds["hi"]))
                    .option("numPartitions", str(parts))
                )
        return reader.option("dbtable", f"({query}) as src").load()

    def _small_query(self, sql: str) -> list[dict[str, Any]]:
        """The rows of a query with a small answer (numbers and text), each as {column label:
        value}, read over the source's JDBC driver in Spark's JVM, connected as Spark's JDBC
        reads connect (DriverRegistry), without a Spark job. Read as a Spark job such a query
        cost 0.1 s of scheduling, and a session's first 0.9 s (it loads Spark's JDBC
        machinery); this way 0.02 s, and 0.08 s the first (measured locally, MariaDB)."""
        s = self.settings
        jvm = self.spark._jvm
        registry = jvm.org.apache.spark.sql.execution.datasources.jdbc.DriverRegistry
        registry.register(s.source_jdbc_driver)
        properties = jvm.java.util.Properties()
        properties.setProperty("user", s.source.user)
        properties.setProperty("password", s.source.password)
        connection = registry.get(s.source_jdbc_driver).connect(s.source_jdbc_url, properties)
        if connection is None:  # java.sql.Driver.connect: not a URL this driver takes
            raise ExtractError(f"the JDBC driver {s.source_jdbc_driver} refuses the source URL")
        try:
            results = connection.createStatement().executeQuery(sql)
            meta = results.getMetaData()
            labels = [meta.getColumnLabel(i) for i in range(1, meta.getColumnCount() + 1)]
            rows = []
            while results.next():
                values = [_python_value(results.getObject(i)) for i in range(1, len(labels) + 1)]
                rows.append(dict(zip(labels, values, strict=True)))
            return rows
        finally:
            connection.close()


def _python_value(value: Any) -> int | float | str | Decimal | None:
    """A JDBC value of a small query as Python: py4j converts numbers and text but for
    java.math.BigInteger (MySQL's BIGINT UNSIGNED, as information_schema's positions)."""
    if value is None or isinstance(value, int | float | str | Decimal):
        return value
    if value.getClass().getName() == "java.math.BigInteger":
        return int(value.toString())
    raise TypeError(f"a {value.getClass().getName()} in a small query's answer")


@dataclass
class TableExtract:
    table: str
    rows: int
    path: str | None
    full_refresh: bool
    seconds: float
    query: str  # the source query, or the files read
    notes: list[str] = field(default_factory=list)
    steps: dict[str, float] = field(default_factory=dict)  # seconds: plan, write, bookmark


@dataclass
class ExtractResult:
    domain: str
    batch_id: str
    run_date: str
    tables: list[TableExtract] = field(default_factory=list)
    committed: bool = False

    @property
    def rows(self) -> int:
        return sum(t.rows for t in self.tables)


@dataclass
class _TableRead:
    """What one table contributes to a batch, before it is written."""

    df: DataFrame | None  # None: nothing to read
    describe: str
    # The next bookmark, from the batch's observed ``metric`` (None: no metric).
    bookmark: Callable[[str | None], dict[str, Any]]
    metric: Column | None = None  # an aggregate observed as the batch is written
    commit_empty: bool = False  # commit even with no rows (files processed, all empty)
    keys_unique: bool | None = None  # True: the source guarantees one row per key
    notes: list[str] = field(default_factory=list)


def _source_catalogue(
    reader: TableReader, specs: Sequence[TableSpec], domain: str
) -> dict[str, list[SourceColumn]] | None:
    """The source columns of the domain's database tables, or None if the reader cannot
    tell (then nothing is checked)."""
    describe = getattr(reader, "source_columns", None)
    if describe is None or not specs:
        return None
    with _failing_as(f"{domain}: reading the source's columns failed"):
        return describe([s.name for s in specs])


def _jdbc_read(
    reader: TableReader,
    spec: TableSpec,
    state: DomainState,
    run_date: date,
    settings: Settings,
    is_refresh: bool,
    source: list[SourceColumn] | None,
) -> _TableRead:
    notes: list[str] = []
    if source is not None:  # checked before the table is read
        notes, error = compare_source_columns(spec, source, settings.schema_drift)
        if error:
            raise ExtractError(error)
    lookback_days = settings.bookings_lookback_days
    predicate = None if is_refresh else incremental_predicate(spec, state, run_date, lookback_days)
    query = source_query(spec, predicate)
    previous = state.table(spec.name)
    return _TableRead(
        df=cast_to_spec(reader.read(spec, query), spec),
        describe=query,
        bookmark=lambda observed: next_bookmark(
            spec, previous, observed_bookmark(spec, observed), is_refresh
        ),
        metric=bookmark_metric(spec),
        keys_unique=True if source and source_keys_unique(spec, source) else None,
        notes=notes,
    )


def _landed_read(
    reader: LandingReader, spec: TableSpec, state: DomainState, is_refresh: bool, policy: str
) -> _TableRead:
    present = reader.list_files(spec)
    previous = state.table(spec.name)
    pending = pending_files(present, previous, is_refresh)
    if not pending and not is_refresh:
        return _TableRead(df=None, describe="no new files", bookmark=lambda _: previous or {})
    try:
        matches = reader.headers(spec, pending)
    except LandingError as exc:
        raise ExtractError(str(exc)) from exc
    extra = {key: m.extra_columns for key, m in matches.items()}
    notes, error = compare_landed_headers(spec, extra, policy)
    if error:
        raise ExtractError(error)
    notes += [f"{f.key}: empty file" for f in pending if f.key not in matches]
    return _TableRead(
        df=reader.read(spec, pending, matches),
        describe="files: " + ", ".join(f.key for f in pending),
        bookmark=lambda _: files_bookmark(previous, pending, is_refresh, present),
        commit_empty=True,
        notes=notes,
    )


@contextmanager
def _failing_as(what: str) -> Iterator[None]:
    """Any error inside as an ExtractError saying ``what`` failed (where, which table)."""
    try:
        yield
    except ExtractError:
        raise
    except Exception as exc:
        raise ExtractError(f"{what}: {exc}") from exc


def extract_domain(
    settings: Settings,
    domain: str,
    run_date: date,
    reader: TableReader | LandingReader,
    full_refresh: Iterable[str] = (),
    tables: Iterable[TableSpec] | None = None,
) -> ExtractResult:
    """Extract every table of a domain into one raw batch, then commit the bookmarks.

    ``reader`` is the domain's source: a JDBC reader (database tables, bookmark keys) or a
    landing reader (CSV files, file bookmarks). All Parquet output is written (its rows
    counted as they are written) before the state document is replaced: a run that dies
    earlier leaves the bookmarks where they were, and its rerun overwrites the same batch
    paths.
    """
    specs = list(tables) if tables is not None else list(TABLES_BY_DOMAIN[domain])
    refresh = _refreshed_tables(full_refresh, specs)
    store = BookmarkStore(settings.bookmarks_root, domain)
    state = store.load()
    batch_id = state.next_batch_id(run_date)
    result = ExtractResult(domain=domain, batch_id=batch_id, run_date=run_date.isoformat())
    # Every table is checked and planned before any is written: drift or a bad header in
    # the last table fails the run with nothing written.
    planned = _plan_tables(reader, specs, state, run_date, settings, refresh, domain)
    written, bookmarks = _write_tables(settings, planned, refresh, result)
    kill_point("before_commit")
    if written:
        store.commit(state, batch_id, run_date, written, bookmarks)
        result.committed = True
    kill_point("after_commit")
    return result


def _refreshed_tables(full_refresh: Iterable[str], specs: Sequence[TableSpec]) -> set[str]:
    """The names of the tables among ``specs`` that --full-refresh asks to re-read whole."""
    refresh = set(full_refresh)
    if "all" in refresh:
        refresh = {s.name for s in specs}
    # One --full-refresh list serves every domain's extract: each takes its own tables.
    unknown = refresh - {s.name for s in all_tables()}
    if unknown:
        raise ExtractError(f"--full-refresh names unknown tables: {sorted(unknown)}")
    return refresh & {s.name for s in specs}


_Planned = tuple[TableSpec, _TableRead, float]  # a table, its read, seconds spent planning


def _plan_tables(
    reader: TableReader | LandingReader,
    specs: Sequence[TableSpec],
    state: DomainState,
    run_date: date,
    settings: Settings,
    refresh: set[str],
    domain: str,
) -> list[_Planned]:
    """Check and plan the read of every table before anything is written: side by side,
    ``settings.tables_at_once`` at a time (a table's plan may ask its source for the bounds
    of its partitions), the first failure in table order raised."""
    catalogue = _source_catalogue(reader, [s for s in specs if not s.is_landed], domain)

    def plan(spec: TableSpec) -> Callable[[], _Planned]:
        def task() -> _Planned:
            started = time.monotonic()
            with _failing_as(f"{domain}.{spec.name}: extraction failed"):
                read = _plan_read(reader, spec, state, run_date, settings, refresh, catalogue)
            return spec, read, time.monotonic() - started

        return task

    tasks = [plan(spec) for spec in specs]
    with closing(in_order(tasks, settings.tables_at_once, f"plan-{domain}")) as planned:
        return list(planned)


def _plan_read(
    reader: TableReader | LandingReader,
    spec: TableSpec,
    state: DomainState,
    run_date: date,
    settings: Settings,
    refresh: set[str],
    catalogue: dict[str, list[SourceColumn]] | None,
) -> _TableRead:
    """One table's read: its landed files, or its source query."""
    if spec.is_landed:
        if not isinstance(reader, LandingReader):
            raise ExtractError(f"{spec.name} is a landed table: it needs a LandingReader")
        return _landed_read(reader, spec, state, spec.name in refresh, settings.schema_drift)
    source = None if catalogue is None else catalogue.get(spec.name, [])
    return _jdbc_read(reader, spec, state, run_date, settings, spec.name in refresh, source)


def _write_tables(
    settings: Settings,
    planned: list[_Planned],
    refresh: set[str],
    result: ExtractResult,
) -> tuple[dict[str, TableBatch], dict[str, dict[str, Any]]]:
    """Write each planned table's batch and add it to ``result``; the tables to commit and
    their next bookmarks. A table with nothing new is left out, its stale output removed.

    The tables are written side by side, ``settings.tables_at_once`` at a time
    (jobs/concurrent.py); the results are taken in table order."""
    written: dict[str, TableBatch] = {}
    bookmarks: dict[str, dict[str, Any]] = {}
    tasks = [_table_task(settings, p, refresh, result) for p in planned]
    with closing(in_order(tasks, settings.tables_at_once, f"extract-{result.domain}")) as done:
        for table in done:
            result.tables.append(table.extract)
            if table.batch is not None:
                written[table.batch.table] = table.batch
                bookmarks[table.batch.table] = table.bookmark
    return written, bookmarks


@dataclass
class _Written:
    extract: TableExtract
    batch: TableBatch | None = None  # None: nothing to commit for the table
    bookmark: dict[str, Any] = field(default_factory=dict)


def _table_task(
    settings: Settings,
    planned: _Planned,
    refresh: set[str],
    result: ExtractResult,
) -> Callable[[], _Written]:
    """Writing one planned table's batch (and its next bookmark), as a task to run."""
    spec, read, planning_s = planned

    def task() -> _Written:
        started = time.monotonic() - planning_s
        steps = StepSeconds(plan=round(planning_s, 3))
        is_refresh = spec.name in refresh
        path = raw_batch_path(
            settings.lake_root, result.domain, spec.name, result.run_date, result.batch_id
        )
        with _failing_as(f"{result.domain}.{spec.name}: extraction failed"), steps.step("write"):
            rows, observed = _write_batch(read, path)
        if rows == 0 and not is_refresh and not (read.df is not None and read.commit_empty):
            # Nothing new is a normal run; drop an earlier attempt's output at this path.
            remove_tree(path)
            seconds = time.monotonic() - started
            extract = TableExtract(
                spec.name, 0, None, False, seconds, read.describe, read.notes, steps
            )
            return _Written(extract)
        with steps.step("bookmark"):
            bookmark = read.bookmark(observed)
        seconds = time.monotonic() - started
        extract = TableExtract(
            spec.name, rows, path, is_refresh, seconds, read.describe, read.notes, steps
        )
        batch = TableBatch(spec.name, path, rows, is_refresh, read.keys_unique)
        return _Written(extract, batch, bookmark)

    return task


def _write_batch(read: _TableRead, path: str) -> tuple[int, str | None]:
    """Write a table's rows to its batch path; how many were written and the read's
    ``metric`` over them, observed as the write writes them: one pass over the source, so
    what is counted and aggregated is what was written. (Reading the files back for them
    was one more Spark job per table, 0.2 to 0.3 s each.)"""
    if read.df is None:
        return 0, None
    written = Observation()
    metrics = [F.count(F.lit(1)).alias("rows")]
    if read.metric is not None:
        metrics.append(read.metric.alias("metric"))
    df = read.df.observe(written, *metrics)
    df.write.mode("overwrite").option("compression", "snappy").parquet(path)
    observed = written.get
    kill_point("table_written")
    return observed["rows"], observed.get("metric")
