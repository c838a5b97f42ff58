"""Lake layout: deterministic paths per run date and batch id, never the wall clock.

raw/<domain>/<table>/run_date=<D>/batch_id=<B>/      extracted rows (Parquet, Snappy)
staged/<domain>/<table>/batch_id=<B>/{accepted,rejects}/  rows after quality rules
"""

from __future__ import annotations


def raw_batch_path(lake_root: str, domain: str, table: str, run_date: str, batch_id: str) -> str:
    return f"{lake_root.rstrip('/')}/raw/{domain}/{table}/run_date={run_date}/batch_id={batch_id}"


def staged_batch_path(lake_root: str, domain: str, table: str, batch_id: str, part: str) -> str:
    return f"{lake_root.rstrip('/')}/staged/{domain}/{table}/batch_id={batch_id}/{part}"
