"""curate: raw_data.stg_* -> curated facts and dimensions (redshift/merges), then the quality
gate (redshift/quality): a broken warehouse invariant fails the job. The presentation views
read curated live; they are the owner's, created with the migrations, not by the job."""

from __future__ import annotations

import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from rental_analytics.config import Settings, validate_identifier
from rental_analytics.jobs.args import JobArgs
from rental_analytics.jobs.faults import kill_point
from rental_analytics.quality.warehouse import (
    GateResult,
    QualityGateError,
    check_warehouse,
    load_rulesets,
    tables_apart_from,
)
from rental_analytics.warehouse import connect
from rental_analytics.warehouse.base import Warehouse, sql_dir
from rental_analytics.warehouse.migrations import require_version
from rental_analytics.warehouse.sqltext import split_statements, written_table


@dataclass
class MergeResult:
    target: str
    rows_deleted: int
    rows_merged: int
    rows_total: int
    seconds: float


@dataclass
class CurateResult:
    merges: list[MergeResult] = field(default_factory=list)
    quality_rules: int = 0  # warehouse rules the gate evaluated (all held, or the job failed)
    quality_seconds: float = 0.0
    seconds: float = 0.0


def merge_target(path: Path) -> str:
    """The curated table a merge file writes: its name after the order number and the
    first '_' (``010_dim_listings.sql`` -> ``dim_listings``)."""
    return validate_identifier(path.stem.split("_", 1)[1], "merge target")


def curated_writes(
    statements: Sequence[str], counts: Sequence[tuple[str, int]], target: str
) -> tuple[int, int]:
    """The rows a merge file's statements (``split_statements`` of it, and their
    ``run_statements`` counts) deleted from and wrote to ``curated.<target>``: (deleted, merged).
    Merged counts its MERGE's rows and the INSERT that fills a still empty table (a new
    warehouse's first run)."""
    deleted = merged = 0
    for statement, (verb, rows) in zip(statements, counts, strict=True):
        if written_table(statement) != f"curated.{target}":
            continue
        if verb == "delete":
            deleted += max(rows, 0)
        elif verb in ("merge", "insert"):
            merged += max(rows, 0)
    return deleted, merged


def run_curate(wh: Warehouse) -> CurateResult:
    """Check the warehouse's version, run every redshift/merges/*.sql file in order (each in
    its own transaction), then evaluate every redshift/quality ruleset. No DDL.

    Raises QualityGateError listing every broken rule. The merges are committed by then: the
    gate reports a wrong warehouse, it does not keep one from being written.

    The rulesets of the tables no merge writes (nor references one: raw_data's stg tables,
    the load ledger, the rejects) are evaluated while the merges run, on a connection of
    their own: the merges cannot change their verdict, and they keep one core busy at a
    time (at scale 1, after 1% changes, 1.3 s of merges and 0.6 s of gate one after the
    other). The others are evaluated once the merges are committed.
    """
    started = time.monotonic()
    require_version(wh)
    result = CurateResult()
    merges = {
        p: split_statements(p.read_text()) for p in sorted((sql_dir() / "merges").glob("*.sql"))
    }
    written = {t for statements in merges.values() for t in map(written_table, statements) if t}
    rulesets = load_rulesets()
    apart = tables_apart_from(written, rulesets)
    beside = {t: r for t, r in rulesets.items() if t in apart}
    after = {t: r for t, r in rulesets.items() if t not in apart}

    def gate_beside() -> GateResult:
        with wh.another() as other:
            return check_warehouse(other, at_once=1, rulesets=beside)

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="quality-gate") as pool:
        ahead = pool.submit(gate_beside)
        for path, statements in merges.items():
            t0 = time.monotonic()
            counts = wh.run_statements(
                statements, path.name, before_commit=lambda: kill_point("in_merge")
            )
            kill_point("merge_done")
            target = merge_target(path)
            deleted, merged = curated_writes(statements, counts, target)
            _, rows = wh.query(f"select count(*) from curated.{target}")  # noqa: S608 - file name
            result.merges.append(
                MergeResult(target, deleted, merged, int(rows[0][0]), time.monotonic() - t0)
            )
        kill_point("before_views")
        gate = check_warehouse(wh, rulesets=after)
        early = ahead.result()
    order = list(rulesets)
    failures = sorted(early.failures + gate.failures, key=lambda f: order.index(f.table))
    if failures:
        raise QualityGateError(failures)
    result.quality_rules = early.rules + gate.rules
    result.quality_seconds = gate.seconds  # what the run waited for, after the merges
    result.seconds = time.monotonic() - started
    return result


def run(args: JobArgs, settings: Settings, spark: None) -> CurateResult:
    """The curate job (glue_jobs/curate.py): needs no Spark, only the warehouse."""
    with connect(settings) as wh:
        return run_curate(wh)
