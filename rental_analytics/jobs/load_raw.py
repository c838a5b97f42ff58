"""load_raw: committed raw batches -> raw_data.stg_* (rules, rejects, idempotent merge)."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from importlib import resources

from pyspark.sql import Observation, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import StructType

from rental_analytics.config import DOMAINS, Settings
from rental_analytics.jobs.args import JobArgs
from rental_analytics.jobs.concurrent import in_order
from rental_analytics.jobs.faults import kill_point
from rental_analytics.jobs.timing import StepSeconds
from rental_analytics.lake import staged_batch_path
from rental_analytics.quality.dqdl import Rule, parse_ruleset
from rental_analytics.sources.bookmarks import Batch, BookmarkStore, TableBatch
from rental_analytics.sources.landing import raw_landed_schema
from rental_analytics.sources.tables import TABLES_BY_DOMAIN, TableSpec
from rental_analytics.storage import remove_tree
from rental_analytics.transforms.common import spark_schema
from rental_analytics.transforms.staging import (
    BatchContext,
    accepted_rows,
    check_batch,
    keys_repeat,
    rank_batch,
    reject_rows,
)
from rental_analytics.warehouse import connect
from rental_analytics.warehouse.base import Warehouse
from rental_analytics.warehouse.loading import (
    BatchLoad,
    batch_is_loaded,
    empty_stg_tables,
    load_batch,
)
from rental_analytics.warehouse.migrations import require_version


def load_rules(spec: TableSpec) -> tuple[Rule, ...]:
    path = resources.files("rental_analytics.sources") / "rules" / f"{spec.name}.dqdl"
    return parse_ruleset(path.read_text(), source=f"rules/{spec.name}.dqdl")


@dataclass
class LoadResult:
    batches: list[BatchLoad] = field(default_factory=list)
    seconds: float = 0.0

    def total(self, attr: str) -> int:
        return sum(getattr(b, attr) for b in self.batches)


def run_load_raw(spark: SparkSession, settings: Settings, wh: Warehouse) -> LoadResult:
    """Load every committed batch not yet in raw_data.load_batches, oldest first.

    The batches are staged (Spark) side by side, ``settings.tables_at_once`` at a time, and
    loaded (one warehouse transaction each) one after another in domain, batch and table
    order, each as soon as it is staged: the warehouse merges one batch while Spark checks
    the next ones. A failure stops both; what was loaded before it stays loaded.

    Runs no DDL: the owner has applied the migrations; a warehouse at another version than
    this code fails the job before anything is loaded."""
    started = time.monotonic()
    loaded_at = datetime.now(UTC).replace(tzinfo=None)  # audit metadata only
    require_version(wh)
    result = LoadResult()
    pending = _pending_batches(settings, wh)
    # A stg table with no row yet takes its first batch by a COPY straight into it.
    empty = empty_stg_tables(wh, list({spec.name: spec for _, _, spec, _ in pending}.values()))

    def stage(domain: str, batch: Batch, spec: TableSpec, tb: TableBatch) -> Callable[[], _Staged]:
        def task() -> _Staged:
            ctx = BatchContext(batch.batch_id, date.fromisoformat(batch.run_date), loaded_at)
            steps = StepSeconds()
            paths = _stage_batch(spark, settings, domain, spec, tb, ctx, steps)
            return _Staged(ctx, steps, *paths)

        return task

    tasks = [stage(*item) for item in pending]
    with closing(in_order(tasks, settings.tables_at_once, "load_raw")) as staged_batches:
        for (_, batch, spec, tb), staged in zip(pending, staged_batches, strict=True):
            kill_point("batch_staged")
            into_empty = spec.name in empty
            empty.discard(spec.name)
            result.batches.append(
                load_batch(
                    wh,
                    spec,
                    batch_id=batch.batch_id,
                    run_date=staged.ctx.run_date,
                    loaded_at=loaded_at,
                    full_refresh=tb.full_refresh,
                    accepted_path=staged.accepted_path,
                    rejects_path=staged.rejects_path,
                    rows_extracted=tb.rows,
                    steps=staged.steps,
                    into_empty=into_empty,
                )
            )
            kill_point("batch_loaded")
    result.seconds = time.monotonic() - started
    return result


def _pending_batches(
    settings: Settings, wh: Warehouse
) -> list[tuple[str, Batch, TableSpec, TableBatch]]:
    """Each domain's committed table batches not yet loaded: (domain, batch, spec, table
    batch), in domain order, then batch order (oldest first), then the batch's table order."""
    pending = []
    for domain in DOMAINS:
        specs = {s.name: s for s in TABLES_BY_DOMAIN.get(domain, ())}
        if not specs:
            continue
        for batch in BookmarkStore(settings.bookmarks_root, domain).load().batches:
            for table, tb in batch.tables.items():
                if not batch_is_loaded(wh, table, batch.batch_id):
                    pending.append((domain, batch, specs[table], tb))
    return pending


def _raw_batch_schema(spec: TableSpec) -> StructType:
    """A raw batch's columns as the extract wrote them: a landed table's text and where it
    came from, a database table's typed values."""
    return raw_landed_schema(spec) if spec.is_landed else spark_schema(spec)


@dataclass(frozen=True)
class _Staged:
    """A batch checked and written to the lake, ready to load."""

    ctx: BatchContext
    steps: StepSeconds
    accepted_path: str
    rejects_path: str


def _stage_batch(
    spark: SparkSession,
    settings: Settings,
    domain: str,
    spec: TableSpec,
    tb: TableBatch,
    ctx: BatchContext,
    steps: StepSeconds,
) -> tuple[str, str]:
    """Check a raw batch's rows and write the accepted ones and the rejects to the lake;
    their paths (accepted, rejects). Spark reads and checks the rows in the first write."""
    # Ranking shuffles whole rows; when no key repeats every passing row is its key's
    # latest version. A database table's batch is vouched for by the source's primary key
    # (the extract records it); any other batch is looked at, the key columns alone.
    # Landed rows are parsed once and kept for the second write (parsing again costs twice
    # as much); database rows are read and checked again instead, cheaper than keeping
    # them. The rejects are planned, read and written only when some row was not accepted.
    with steps.step("plan"):  # building the DataFrames: Spark analyses each step's plan
        raw = spark.read.schema(_raw_batch_schema(spec)).parquet(tb.path)
        checked = check_batch(raw, spec, load_rules(spec))
    with steps.step("check_keys"):
        # Looks at the keys (an action) unless the source vouches for them; ranks lazily.
        ranked = rank_batch(
            checked, spec, keys_unique=True if tb.keys_unique else None, rows=tb.rows
        )
    with steps.step("plan"):
        if spec.is_landed:
            ranked = ranked.persist()
        accepted = accepted_rows(ranked, spec, ctx)
    accepted_path = staged_batch_path(
        settings.lake_root, domain, spec.name, ctx.batch_id, "accepted"
    )
    rejects_path = staged_batch_path(settings.lake_root, domain, spec.name, ctx.batch_id, "rejects")
    written = Observation()  # the accepted rows, counted as the write writes them
    with steps.step("read_check_write_accepted"):
        # Without dictionary encoding: the files are read once, by the COPY, and most of
        # their text is unique (hashes, titles, bodies), which Parquet's writer first
        # tries to put in a dictionary, then gives up on. Load_raw at scale 1 (three
        # batches a table), five A/B pairs: 25.1-27.7 s against 26.7-29.3 s; the files
        # 10-20% larger.
        accepted.observe(written, F.count(F.lit(1)).alias("rows")).write.mode("overwrite").option(
            "parquet.enable.dictionary", "false"
        ).parquet(accepted_path)
    with steps.step("write_rejects"):
        # Every row is accepted or rejected, once: when the accepted ones are all the batch's
        # rows, there is no reject to look for, and the batch is not read and checked a
        # second time (the usual case for a database table). No rejects are then no files at
        # all (an earlier attempt's removed): the warehouse COPYs nothing from a folder
        # without part files. The count comes with the write: counting the written files
        # was one more Spark job per table, queued behind the other table's tasks.
        if written.get["rows"] == tb.rows:
            remove_tree(rejects_path)
        else:
            reject_rows(ranked, spec, ctx).write.mode("overwrite").parquet(rejects_path)
    if spec.is_landed:
        ranked.unpersist()
    return accepted_path, rejects_path


def rehearse_every_table(
    spark: SparkSession, settings: Settings, folder: str, stop: Callable[[], bool] = lambda: False
) -> None:
    """Stage a tiny batch of each table as ``_stage_batch`` stages a batch, in ``folder``
    (raw batch, accepted rows and rejects), until ``stop()``. A process that starts a job
    later (local/standby.py) does it ahead: Spark generates and compiles each step's code
    and keeps it by its text, and the JVM compiles the analyser's and optimiser's code on
    these plans, so a job's tables are staged as fast as if it had staged them before.

    The rows are all NULL: they fail the tables' rules, so the rejects are staged too. A
    landed batch is staged twice, with one row and with two (a key repeated: ranked by
    version), as its keys may or may not repeat; a database table's batch has one row per
    key (its source's key). Such tiny batches have their keys compared in the driver, so a
    landed table's keys are also counted the way a batch of more than ``SMALL_BATCH_ROWS``
    rows has them counted, by an aggregation (``keys_repeat``). Without it a rehearsed
    JVM's first such count (60,000 vehicles) took 0.44-0.52 s, with it 0.30-0.32 s."""
    ctx = BatchContext("rehearsal", date(2000, 1, 1), datetime(2000, 1, 1))
    rehearsal = dataclasses.replace(settings, lake_root=folder)
    for domain, specs in TABLES_BY_DOMAIN.items():
        for spec in specs:
            schema = _raw_batch_schema(spec)
            for rows in (1, 2) if spec.is_landed else (1,):
                if stop():
                    return
                path = f"{folder.rstrip('/')}/raw/{spec.name}/{rows}"
                # Made in the JVM: rows from Python would start Python workers, and the
                # SparkContext's accumulator server they connect to takes up to 1 s to stop.
                nulls = [F.lit(None).cast(f.dataType).alias(f.name) for f in schema.fields]
                spark.range(rows).select(*nulls).write.parquet(path)
                keys_unique = None if spec.is_landed else True
                tb = TableBatch(spec.name, path, rows, keys_unique=keys_unique)
                _stage_batch(spark, rehearsal, domain, spec, tb, ctx, StepSeconds())
            if spec.is_landed and not stop():
                checked = check_batch(
                    spark.read.schema(schema).parquet(path), spec, load_rules(spec)
                )
                keys_repeat(checked, spec)  # the row count not given: an aggregation


def run(args: JobArgs, settings: Settings, spark: SparkSession) -> LoadResult:
    """The load_raw job (glue_jobs/load_raw.py): every committed batch into the warehouse."""
    with connect(settings) as wh:
        return run_load_raw(spark, settings, wh)
