"""Typed Glue job arguments, resolved with awsglue.utils.getResolvedOptions.

getResolvedOptions only knows required arguments; optional ones are resolved when present
on the command line and take their defaults otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from awsglue.utils import getResolvedOptions

from rental_analytics.config import DOMAINS, ConfigError, parse_run_date, validate_identifier
from rental_analytics.runs import is_run_id

OPTIONAL_DEFAULTS = {"domain": "", "full_refresh": "", "metrics_path": "", "run_id": ""}
# The workflow always passes --full_refresh; this value means "an incremental run".
NO_FULL_REFRESH = "none"


@dataclass(frozen=True)
class JobArgs:
    job_name: str
    run_date: date
    domain: str
    full_refresh: tuple[str, ...]
    metrics_path: str
    run_id: str = ""  # the workflow execution's name
    job_run_id: str = ""  # Glue's --JOB_RUN_ID: one per attempt


def resolve_job_args(argv: Sequence[str]) -> JobArgs:
    present = [name for name in OPTIONAL_DEFAULTS if f"--{name}" in argv]
    resolved = {
        **OPTIONAL_DEFAULTS,
        **getResolvedOptions(list(argv), ["JOB_NAME", "run_date", *present]),
    }
    domain = resolved["domain"]
    if domain and domain not in DOMAINS:
        raise ConfigError(f"--domain must be one of {DOMAINS}, got {domain!r}")
    refresh = tuple(
        validate_identifier(t.strip(), "table name")
        for t in resolved["full_refresh"].split(",")
        if t.strip() and t.strip() != NO_FULL_REFRESH
    )
    return JobArgs(
        job_name=resolved["JOB_NAME"],
        run_date=parse_run_date(resolved["run_date"]),
        domain=domain,
        full_refresh=refresh,
        metrics_path=resolved["metrics_path"],
        run_id=validate_run_id(resolved["run_id"]),
        job_run_id=resolved.get("JOB_RUN_ID") or "",
    )


def validate_run_id(run_id: str) -> str:
    """A run id names a folder: letters, digits, '-' and '_' only."""
    if run_id and not is_run_id(run_id):
        raise ConfigError(f"invalid --run_id {run_id!r}: letters, digits, '-' and '_' only")
    return run_id
