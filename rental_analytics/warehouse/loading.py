"""Idempotent load of one prepared batch into raw_data.stg_<table>, in one transaction.

The SQL is generated from the table spec (validated, quoted identifiers) and is the classic
Redshift staging-table upsert, which PostgreSQL runs unchanged: copy the batch into a temp
table LIKE the target, delete target rows whose content changed, insert rows not present.
Unchanged rows are not touched, so re-extracted rows change nothing. A stg table's first
batch, while the table is empty, is COPYed into it directly. The ledger row in
raw_data.load_batches is written in the same transaction: a batch is loaded exactly once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from rental_analytics.columns import LOAD_COLUMNS, STALE_GUARD_COLUMN, guards_stale_versions
from rental_analytics.jobs.faults import kill_point
from rental_analytics.jobs.timing import StepSeconds
from rental_analytics.quality.rejects import REJECT_COLUMNS, record_staged, row_hash_sql
from rental_analytics.quality.rule_names import primary_key_rule
from rental_analytics.sources.tables import TableSpec
from rental_analytics.warehouse.base import Warehouse, WarehouseError
from rental_analytics.warehouse.sqltext import quote_identifier


@dataclass(frozen=True)
class StgStatements:
    create_stage: str
    delete_missing: str
    delete_changed: str
    insert_new: str
    insert_all: str
    drop_stage: str
    reject_stale: str | None = None  # bound: rule, reason, batch_id, rejected_at
    delete_stale: str | None = None


def stg_columns(spec: TableSpec) -> tuple[str, ...]:
    """A stg table's columns, in order: the spec's, then the load metadata."""
    return (*spec.column_names, *LOAD_COLUMNS)


def stg_statements(spec: TableSpec) -> StgStatements:
    """The staging upsert of one table. Every identifier is validated and double-quoted
    (quote_identifier); every value is a bound parameter."""
    q = quote_identifier
    target_name = q(spec.stg_table, "table name")
    target = f"raw_data.{target_name}"
    stage = q(f"stage_{spec.name}", "table name")
    cols = ", ".join(q(c, "column name") for c in stg_columns(spec))
    keys = [q(k, "key column") for k in spec.primary_key]
    on = " and ".join(f"{target_name}.{k} = {stage}.{k}" for k in keys)
    create_stage = f"create temp table {stage} (like {target})"
    reject_stale = delete_stale = None
    if guards_stale_versions(spec):
        mod = q(spec.modified_column, "column name")
        guard = q(STALE_GUARD_COLUMN, "column name")
        stale = (
            f"{target_name}.{mod} is not null"
            f" and ({stage}.{mod} is null or {stage}.{mod} < {target_name}.{mod})"
        )
        key = " || '|' || ".join(
            f"coalesce(cast({stage}.{k} as varchar(1024)), 'NULL')" for k in keys
        )
        # The stage carries each row's landed text, for the reject of a stale version.
        create_stage = (
            f"create temp table {stage} as select {target_name}.*,"  # noqa: S608
            f" cast(null as varchar(65535)) as {guard}"
            f" from {target} where 1 = 0"
        )
        reject_stale = (
            f"insert into stage_rejects ({', '.join(REJECT_COLUMNS)})"  # noqa: S608
            f" select cast(%(table)s as varchar(128)), {key}, cast(%(rule)s as varchar(1024)),"
            f" cast(%(reason)s as varchar(1024)) || cast({target_name}.{mod} as varchar(64))"
            f" || ')', cast(%(batch_id)s as varchar(64)), {stage}.{guard},"
            f" {row_hash_sql(f'{stage}.{guard}', 'cast(%(rule)s as varchar(1024))')},"
            f" cast(%(rejected_at)s as timestamp)"
            f" from {stage} join {target} on {on} where {stale}"
        )
        delete_stale = f"delete from {stage} using {target} where {on} and {stale}"  # noqa: S608
    return StgStatements(
        reject_stale=reject_stale,
        delete_stale=delete_stale,
        create_stage=create_stage,
        delete_missing=(
            f"delete from {target} where not exists (select 1 from {stage} where {on})"  # noqa: S608
        ),
        delete_changed=(
            f"delete from {target} using {stage}"  # noqa: S608
            f" where {on} and {target_name}.load_row_hash <> {stage}.load_row_hash"
        ),
        insert_new=(
            f"insert into {target} ({cols}) select {cols} from {stage}"  # noqa: S608
            f" where not exists (select 1 from {target} where {on})"
        ),
        insert_all=f"insert into {target} ({cols}) select {cols} from {stage}",  # noqa: S608
        drop_stage=f"drop table {stage}",
    )


@dataclass
class BatchLoad:
    table: str
    batch_id: str
    rows_extracted: int
    rows_loaded: int
    rows_rejected: int
    rows_inserted: int = 0
    rows_updated: int = 0
    rows_deleted: int = 0
    skipped: bool = False
    # Seconds per step (stage in the lake, COPY, merge), for the metrics; not compared.
    seconds: dict[str, float] = field(default_factory=dict, compare=False)


def batch_is_loaded(wh: Warehouse, table: str, batch_id: str) -> bool:
    _, rows = wh.query(
        "select 1 from raw_data.load_batches where source_table = %(t)s and batch_id = %(b)s",
        {"t": table, "b": batch_id},
    )
    return bool(rows)


def empty_stg_tables(wh: Warehouse, specs: Sequence[TableSpec]) -> set[str]:
    """The names of the tables among ``specs`` whose stg table holds no row; one query."""
    if not specs:
        return set()
    probes = " union all ".join(
        f"select cast(%(t{i})s as varchar(128)) as name, count(*) as found"  # noqa: S608
        f" from (select 1 as one from raw_data.{quote_identifier(s.stg_table, 'table name')}"
        " limit 1) as probe"
        for i, s in enumerate(specs)
    )
    _, rows = wh.query(probes, {f"t{i}": s.name for i, s in enumerate(specs)})
    return {name for name, found in rows if not int(found)}


def load_batch(
    wh: Warehouse,
    spec: TableSpec,
    *,
    batch_id: str,
    run_date: date,
    loaded_at: datetime,
    full_refresh: bool,
    accepted_path: str,
    rejects_path: str,
    rows_extracted: int,
    steps: StepSeconds | None = None,
    into_empty: bool = False,
) -> BatchLoad:
    """Merge one prepared batch into its stg table and record it; all or nothing.

    For landed tables with a modification column, a row older than the version already
    loaded is not applied: it is rejected as superseded, naming the newer version.

    ``into_empty`` says the stg table holds no row (``empty_stg_tables``, asked before
    the job's first load; load_raw is the stg tables' one writer, one run at a time): the
    accepted rows, one per key, are then COPYed into it directly, not into a temp stage
    first and inserted from there, which wrote a first load's rows twice (at scale 1,
    0.5 to 1.2 s of each large table's load). A table with the stale-version guard, whose
    files carry one more column than the table, keeps its stage, and all of it is inserted:
    no row is older than none, and no key is there to look for. (Looking for them cost
    PostgreSQL 80 s for the 107,800 vehicles of scale 1 when the table had been emptied and
    analyzed: planned as a one-row table, it was scanned whole for each row inserted.)"""
    sql = stg_statements(spec)
    steps = StepSeconds() if steps is None else steps
    direct = into_empty and sql.reject_stale is None
    with steps.step("load_transaction"), wh.transaction():
        with steps.step("copy"):
            rejected = _stage_rejects(wh, rejects_path)
            if direct:
                table = f"raw_data.{spec.stg_table}"
                loaded = wh.copy_parquet(table, stg_columns(spec), accepted_path)
            else:
                loaded = _stage_accepted(wh, spec, sql, accepted_path)
        with steps.step("merge"):
            if direct:
                inserted, updated, deleted = loaded, 0, 0
            elif into_empty:
                inserted, updated, deleted = wh.execute(sql.insert_all), 0, 0
                wh.execute(sql.drop_stage)
            else:
                stale = _reject_stale(wh, spec, sql, batch_id, loaded_at)
                loaded, rejected = loaded - stale, rejected + stale
                inserted, updated, deleted = _merge_stage(wh, sql, full_refresh)
            _merge_rejects(wh)
        _reconcile(spec, batch_id, rows_extracted, loaded, rejected)
        kill_point("batch_merged")  # a crash here must roll the whole batch back
        load = BatchLoad(
            spec.name, batch_id, rows_extracted, loaded, rejected, inserted, updated, deleted
        )
        load.seconds = steps
        _record_batch(wh, load, run_date, full_refresh, loaded_at)
    return load


def _stage_rejects(wh: Warehouse, rejects_path: str) -> int:
    """Copy the batch's rejects into the temp table stage_rejects; the number copied."""
    wh.execute("create temp table stage_rejects (like raw_data.rejects)")
    return wh.copy_parquet("stage_rejects", REJECT_COLUMNS, rejects_path)


def _stage_accepted(wh: Warehouse, spec: TableSpec, sql: StgStatements, accepted_path: str) -> int:
    """Copy the batch's accepted rows into the table's temp stage; the number copied."""
    wh.execute(sql.create_stage)
    columns = stg_columns(spec)
    if sql.reject_stale:
        columns = (*columns, STALE_GUARD_COLUMN)
    return wh.copy_parquet(f"stage_{spec.name}", columns, accepted_path)


def _reject_stale(
    wh: Warehouse, spec: TableSpec, sql: StgStatements, batch_id: str, loaded_at: datetime
) -> int:
    """Reject the staged rows older than the version already loaded; how many (0 for a
    table without the guard). They stay in the stage until _merge_stage deletes them."""
    if not sql.reject_stale:
        return 0
    return wh.execute(
        sql.reject_stale,
        {
            "table": spec.name,
            "rule": primary_key_rule(spec),
            "reason": f"superseded: a newer version is already loaded ({spec.modified_column} ",
            "batch_id": batch_id,
            "rejected_at": loaded_at,
        },
    )


def _merge_stage(wh: Warehouse, sql: StgStatements, full_refresh: bool) -> tuple[int, int, int]:
    """Merge the stage into the stg table and drop it; rows (inserted, updated, deleted)."""
    # Before stale rows leave the stage: their keys are still present in the source.
    deleted = wh.execute(sql.delete_missing) if full_refresh else 0
    if sql.delete_stale:
        wh.execute(sql.delete_stale)
    updated = wh.execute(sql.delete_changed)
    inserted = wh.execute(sql.insert_new) - updated
    wh.execute(sql.drop_stage)
    return inserted, updated, deleted


def _merge_rejects(wh: Warehouse) -> None:
    """Add the staged rejects not yet in raw_data.rejects, then drop stage_rejects."""
    record_staged(wh)
    wh.execute("drop table stage_rejects")


def _reconcile(
    spec: TableSpec, batch_id: str, rows_extracted: int, loaded: int, rejected: int
) -> None:
    """Every extracted row is either loaded or rejected; otherwise the batch fails."""
    if rows_extracted != loaded + rejected:
        raise WarehouseError(
            f"{spec.name} batch {batch_id}: reconciliation failed: extracted "
            f"{rows_extracted} != loaded {loaded} + rejected {rejected}"
        )


def _record_batch(
    wh: Warehouse, load: BatchLoad, run_date: date, full_refresh: bool, loaded_at: datetime
) -> None:
    """Write the batch's ledger row in raw_data.load_batches."""
    wh.execute(
        "insert into raw_data.load_batches (source_table, batch_id, run_date,"
        " is_full_refresh, rows_extracted, rows_loaded, rows_rejected, rows_inserted,"
        " rows_updated, rows_deleted, loaded_at) values (%(t)s, %(b)s, %(d)s, %(f)s,"
        " %(e)s, %(l)s, %(r)s, %(i)s, %(u)s, %(x)s, %(at)s)",
        {
            "t": load.table,
            "b": load.batch_id,
            "d": run_date,
            "f": full_refresh,
            "e": load.rows_extracted,
            "l": load.rows_loaded,
            "r": load.rows_rejected,
            "i": load.rows_inserted,
            "u": load.rows_updated,
            "x": load.rows_deleted,
            "at": loaded_at,
        },
    )
