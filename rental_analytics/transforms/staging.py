"""Prepare a raw batch for the warehouse: row-level rules, dedup by key, load metadata.

Every extracted row leaves here exactly once: as the accepted (latest) version of its key,
or as a reject with its reason (a failed rule, or superseded by a later version of the
same key in the same batch). ``accepted + rejected = extracted`` by construction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from rental_analytics.quality import with_row_failures
from rental_analytics.quality.dqdl import Rule
from rental_analytics.sources.tables import TableSpec
from rental_analytics.transforms.common import latest_per_key, record_key, row_hash

LOAD_COLUMNS = ("load_batch_id", "load_run_date", "load_row_hash", "loaded_at")
REJECT_COLUMNS = (
    "source_table",
    "record_key",
    "rule",
    "reason",
    "batch_id",
    "raw_row",
    "row_hash",
    "rejected_at",
)


@dataclass(frozen=True)
class BatchContext:
    batch_id: str
    run_date: date
    loaded_at: datetime


def _rejects(df: DataFrame, spec: TableSpec, ctx: BatchContext, rule, reason) -> DataFrame:
    raw_row = F.to_json(F.struct(*[F.col(c) for c in spec.column_names]))
    return df.select(
        F.lit(spec.name).alias("source_table"),
        record_key(spec.primary_key).alias("record_key"),
        rule.alias("rule"),
        reason.alias("reason"),
        F.lit(ctx.batch_id).alias("batch_id"),
        raw_row.alias("raw_row"),
        F.md5(F.concat_ws("\x1f", raw_row, rule)).alias("row_hash"),
        F.lit(ctx.loaded_at).cast("timestamp").alias("rejected_at"),
    )


def prepare_batch(
    df: DataFrame, spec: TableSpec, rules: tuple[Rule, ...], ctx: BatchContext
) -> tuple[DataFrame, DataFrame]:
    """Split a raw batch into (accepted stg rows with load metadata, reject rows)."""
    checked = with_row_failures(df.select(*spec.column_names), rules)
    failed = checked.where(F.size("dq_failures") > 0)
    passed = checked.where(F.size("dq_failures") == 0).drop("dq_failures")
    failed_rejects = _rejects(
        failed,
        spec,
        ctx,
        F.array_join(F.transform("dq_failures", lambda f: f["rule"]), "; "),
        F.array_join(F.transform("dq_failures", lambda f: f["reason"]), "; "),
    )

    hashed = passed.withColumn("load_row_hash", row_hash(passed, spec.column_names))
    order = []
    if spec.modified_column:
        order.append(F.col(spec.modified_column).desc_nulls_last())
    order.append(F.col("load_row_hash").desc())
    latest, superseded = latest_per_key(hashed, spec.primary_key, order)
    key_cols = " ".join(f'"{k}"' for k in spec.primary_key)
    superseded_rejects = _rejects(
        superseded,
        spec,
        ctx,
        F.lit(f"IsPrimaryKey {key_cols}"),
        F.lit(f"duplicate key in batch {ctx.batch_id}: superseded by a later version"),
    )
    accepted = latest.select(
        *spec.column_names,
        F.lit(ctx.batch_id).alias("load_batch_id"),
        F.lit(ctx.run_date).cast("date").alias("load_run_date"),
        "load_row_hash",
        F.lit(ctx.loaded_at).cast("timestamp").alias("loaded_at"),
    )
    return accepted, failed_rejects.unionByName(superseded_rejects)
