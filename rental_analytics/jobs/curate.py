"""curate: raw_data.stg_* -> curated facts and dimensions (redshift/merges), then views."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from rental_analytics.config import validate_identifier
from rental_analytics.warehouse.base import Warehouse, sql_dir


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
    seconds: float = 0.0


def run_curate(wh: Warehouse) -> CurateResult:
    """Run every redshift/merges/*.sql file in order (each in its own transaction)."""
    started = time.monotonic()
    wh.apply_ddl()
    result = CurateResult()
    for path in sorted((sql_dir() / "merges").glob("*.sql")):
        t0 = time.monotonic()
        counts = wh.run_file(path)
        deleted = sum(max(n, 0) for v, n in counts if v == "delete")
        merged = sum(max(n, 0) for v, n in counts if v == "merge")
        target = validate_identifier(path.stem.split("_", 1)[1], "merge target")
        _, rows = wh.query(f"select count(*) from curated.{target}")  # noqa: S608 - file name
        result.merges.append(
            MergeResult(target, deleted, merged, int(rows[0][0]), time.monotonic() - t0)
        )
    wh.apply_views()
    result.seconds = time.monotonic() - started
    return result
