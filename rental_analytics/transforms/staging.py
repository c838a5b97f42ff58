"""Prepare a raw batch for the warehouse: row-level rules, dedup by key, load metadata.

Every extracted row leaves here exactly once: as the accepted (latest) version of its key,
or as a reject with its reason (a failed rule, or superseded by a later version of the
same key in the same batch). ``accepted + rejected = extracted`` by construction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from rental_analytics.columns import (
    SOURCE_FILE_SEQ,
    SOURCE_ROW_SEQ,
    STALE_GUARD_COLUMN,
    guards_stale_versions,
)
from rental_analytics.quality.dqdl import Rule
from rental_analytics.quality.evaluate import FAILURES_COLUMN, with_row_failures
from rental_analytics.quality.rejects import RAW_ROW_WIDTH, REJECT_WIDTHS, ROW_HASH_SEPARATOR
from rental_analytics.quality.rule_names import primary_key_rule
from rental_analytics.sources.tables import TableSpec
from rental_analytics.transforms.common import fit_bytes, row_hash
from rental_analytics.transforms.landed import MALFORMED_RULE, PARSE_FAILURES, RAW_ROW, parse_landed

VERSION_RANK = "_version_rank"


@dataclass(frozen=True)
class BatchContext:
    batch_id: str
    run_date: date
    loaded_at: datetime


def _reject_key(spec: TableSpec):
    """The key of a rejected row as the source wrote it (``a|b``): a key that did not parse
    ('nine' for an int) stays findable; a key column without any text shows as NULL."""
    if not spec.is_landed:  # the typed value is the source's value
        parts = [F.col(k).cast("string") for k in spec.primary_key]
    else:
        parts = [
            F.coalesce(F.get_json_object(F.col(RAW_ROW), f"$.{k}"), F.col(k).cast("string"))
            for k in spec.primary_key
        ]
    return F.concat_ws("|", *[F.coalesce(p, F.lit("NULL")) for p in parts])


def _raw_row(spec: TableSpec) -> Column:
    """The row as the source wrote it, as JSON, cut to raw_data.rejects.raw_row's bytes.

    A landed row carries its own (``check_batch`` kept the text it was parsed from); a
    database row is its typed values, written out only for the rows that need it (rejects,
    never the accepted ones): every row's JSON would be the largest column of the batch."""
    if spec.is_landed:
        return F.col(RAW_ROW)
    row = F.to_json(F.struct(*[F.col(c) for c in spec.column_names]))
    return fit_bytes(row, RAW_ROW_WIDTH)


def _rejects(df: DataFrame, spec: TableSpec, ctx: BatchContext, rule, reason) -> DataFrame:
    # Every text fits its column of raw_data.rejects, in bytes: a reject of a too-wide
    # value must not be too wide itself (a landed raw_row is capped in check_batch).
    df = df.withColumn(RAW_ROW, _raw_row(spec))
    return df.select(
        F.lit(spec.name).alias("source_table"),
        fit_bytes(_reject_key(spec), REJECT_WIDTHS["record_key"]).alias("record_key"),
        fit_bytes(rule, REJECT_WIDTHS["rule"]).alias("rule"),
        fit_bytes(reason, REJECT_WIDTHS["reason"]).alias("reason"),
        F.lit(ctx.batch_id).alias("batch_id"),
        F.col(RAW_ROW).alias("raw_row"),
        F.md5(F.concat_ws(ROW_HASH_SEPARATOR, F.col(RAW_ROW), rule)).alias("row_hash"),
        F.lit(ctx.loaded_at).cast("timestamp").alias("rejected_at"),
    )


def check_batch(df: DataFrame, spec: TableSpec, rules: tuple[Rule, ...]) -> DataFrame:
    """Typed spec columns and ``dq_failures`` (every reason a row is rejected); a landed
    table also ``raw_row``, the text each row was parsed from.

    Landed tables arrive as text and are parsed first: a value that does not parse is a
    failure, and a record that could not be split into fields fails for that alone.
    """
    if not spec.is_landed:
        return with_row_failures(df.select(*spec.column_names), rules)
    parsed = parse_landed(df, spec)
    parsed = parsed.withColumn(RAW_ROW, fit_bytes(F.col(RAW_ROW), RAW_ROW_WIDTH))
    checked = with_row_failures(parsed, rules)
    parse = F.col(PARSE_FAILURES)
    # A malformed record's one failure says so (parse_landed); not a higher-order function,
    # which Spark would evaluate row by row with the whole parse under it (failure_array).
    malformed = F.coalesce(F.get(parse, 0)["rule"] == MALFORMED_RULE, F.lit(False))
    failures = F.when(malformed, parse).otherwise(F.concat(parse, F.col(FAILURES_COLUMN)))
    return checked.withColumn(FAILURES_COLUMN, failures).drop(PARSE_FAILURES)


def prepare_batch(
    df: DataFrame, spec: TableSpec, rules: tuple[Rule, ...], ctx: BatchContext
) -> tuple[DataFrame, DataFrame]:
    """Split a raw batch into (accepted stg rows with load metadata, reject rows)."""
    return split_batch(check_batch(df, spec, rules), spec, ctx)


# A batch of at most this many rows has its keys compared in the driver (keys_repeat).
SMALL_BATCH_ROWS = 50_000


def keys_repeat(checked: DataFrame, spec: TableSpec, rows: int | None = None) -> bool:
    """Whether any key appears on more than one row of the batch (a NULL key too, as Spark
    groups NULLs together), far cheaper to learn than ranking the whole rows when no key
    repeats: one aggregation over the key columns alone.

    ``rows``, the batch's row count when it is known (the extract counted it): a batch of
    at most ``SMALL_BATCH_ROWS`` rows has its key columns collected and compared in the
    driver instead, one scan and no shuffle. An incremental run's landed batches are small:
    measured warm on this machine, 300 rows 0.05 s against 0.18 s, 20,000 rows 0.13 s
    against 0.20 s, 110,000 rows 0.46 s against 0.33 s (an aggregation's first run in a
    JVM: 2.4 s against 0.14 s); the four vehicle-rental batches of an incremental run at
    scale 1 (10 to 1,100 rows), staged warm, five pairs: 2.6-3.3 s against 3.0-3.8 s."""
    keys = [F.col(k) for k in spec.primary_key]
    if rows is not None and rows <= SMALL_BATCH_ROWS:
        collected = [tuple(row) for row in checked.select(*keys).collect()]
        return len(set(collected)) < len(collected)
    return bool(checked.groupBy(*keys).count().where(F.col("count") > 1).limit(1).count())


def rank_batch(
    checked: DataFrame,
    spec: TableSpec,
    *,
    keys_unique: bool | None = None,
    rows: int | None = None,
) -> DataFrame:
    """A checked batch with ``load_row_hash`` and, for each row that passed every rule, its
    ``_version_rank`` among the passing versions of its key (1 = the latest; NULL for a row
    that failed a rule).

    The latest version of a key wins: by the modification column, then by landing order
    (file, then line), then by content (deterministic). Ranking is the batch's one shuffle,
    so it is skipped when no key repeats (``keys_repeat``, one action on the key columns):
    every passing row is then its key's latest version. ``keys_unique`` given says so
    instead of looking (a test compares both ways); ``rows`` is the batch's row count, if
    known (``keys_repeat``).
    """
    if keys_unique is None:
        keys_unique = not keys_repeat(checked, spec, rows)
    passed = F.size(FAILURES_COLUMN) == 0
    hashed = checked.withColumn("load_row_hash", row_hash(spec.column_names))
    if keys_unique:
        return hashed.withColumn(VERSION_RANK, F.when(passed, F.lit(1)))
    order = []
    if spec.modified_column:
        order.append(F.col(spec.modified_column).desc_nulls_last())
    if SOURCE_FILE_SEQ in hashed.columns:
        order.append(F.col(SOURCE_FILE_SEQ).desc())
    if SOURCE_ROW_SEQ in hashed.columns:  # NULL in raw batches written before it existed
        order.append(F.col(SOURCE_ROW_SEQ).desc_nulls_last())
    order.append(F.col("load_row_hash").desc())
    versions = Window.partitionBy(passed, *[F.col(k) for k in spec.primary_key]).orderBy(*order)
    return hashed.withColumn(VERSION_RANK, F.when(passed, F.row_number().over(versions)))


def split_ranked(
    ranked: DataFrame, spec: TableSpec, ctx: BatchContext
) -> tuple[DataFrame, DataFrame]:
    """Split a ranked batch (``rank_batch``) into (accepted stg rows with load metadata,
    reject rows): ``accepted_rows`` and ``reject_rows``."""
    return accepted_rows(ranked, spec, ctx), reject_rows(ranked, spec, ctx)


def accepted_rows(ranked: DataFrame, spec: TableSpec, ctx: BatchContext) -> DataFrame:
    """The stg rows of a ranked batch (``rank_batch``): each key's latest version that
    passed every rule, with its load metadata."""
    extra = [F.col(RAW_ROW).alias(STALE_GUARD_COLUMN)] if guards_stale_versions(spec) else []
    return ranked.where(F.col(VERSION_RANK) == 1).select(
        *spec.column_names,
        F.lit(ctx.batch_id).alias("load_batch_id"),
        F.lit(ctx.run_date).cast("date").alias("load_run_date"),
        "load_row_hash",
        F.lit(ctx.loaded_at).cast("timestamp").alias("loaded_at"),
        *extra,
    )


def reject_rows(ranked: DataFrame, spec: TableSpec, ctx: BatchContext) -> DataFrame:
    """The rejects of a ranked batch (``rank_batch``): a row that failed a rule, and a
    version superseded by a later one of the same key.

    Planning them costs more than planning the accepted rows (0.25 s a table against
    0.02 s, in a warm session on this machine: two projections of text cut to their
    columns' bytes, and a union), so ``load_raw`` asks for them only when some row was not
    accepted."""
    rank = F.col(VERSION_RANK)
    failed_rejects = _rejects(
        ranked.where(rank.isNull()),
        spec,
        ctx,
        F.array_join(F.transform(FAILURES_COLUMN, lambda f: f["rule"]), "; "),
        F.array_join(F.transform(FAILURES_COLUMN, lambda f: f["reason"]), "; "),
    )
    superseded_rejects = _rejects(
        ranked.where(rank > 1),
        spec,
        ctx,
        F.lit(primary_key_rule(spec)),
        F.lit(f"duplicate key in batch {ctx.batch_id}: superseded by a later version"),
    )
    return failed_rejects.unionByName(superseded_rejects)


def split_batch(
    checked: DataFrame, spec: TableSpec, ctx: BatchContext
) -> tuple[DataFrame, DataFrame]:
    """Split a checked batch into (accepted stg rows with load metadata, reject rows):
    ``split_ranked`` of ``rank_batch``."""
    return split_ranked(rank_batch(checked, spec), spec, ctx)
