"""Typed Glue job arguments, resolved with awsglue.utils.getResolvedOptions.

getResolvedOptions only knows required arguments; optional ones are resolved when present
on the command line and take their defaults otherwise (``resolve_options``). Arguments it
is not asked for (Glue's own: --TempDir, --enable-metrics, ...) are ignored.

Only ``--JOB_NAME`` is required, and Glue always passes it: a job started from the Glue
console, Glue Studio or ``aws glue start-job-run`` with nothing but its deployed defaults
runs for the current UTC date (``run_date_given`` is then False, and the job logs it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from awsglue.utils import getResolvedOptions

from rental_analytics.config import DOMAINS, ConfigError, parse_run_date, validate_identifier
from rental_analytics.runs import is_run_id

# Where the job runs: locally (the default) or in AWS Glue (``--environment aws``).
LOCAL, AWS = "local", "aws"
ENVIRONMENTS = (LOCAL, AWS)
OPTIONAL_DEFAULTS = {
    "run_date": "",
    "domain": "",
    "full_refresh": "",
    "metrics_path": "",
    "run_id": "",
    "environment": LOCAL,
}
# The workflow always passes --full_refresh; this value means "an incremental run".
NO_FULL_REFRESH = "none"


def _given(argv: Sequence[str], name: str) -> bool:
    return any(a == f"--{name}" or a.startswith(f"--{name}=") for a in argv)


def _with_empty_values(argv: Sequence[str], names: Sequence[str]) -> list[str]:
    """``argv`` with an explicit "" after any of ``names`` given without a value.

    An empty job argument (``--redshift_cluster_id ''``, "not set") must read as "", not
    make argparse take the next option for its value or fail: none of these values starts
    with "--".
    """
    flags = {f"--{n}" for n in names}
    out: list[str] = []
    for i, arg in enumerate(argv):
        out.append(arg)
        if arg in flags and (i + 1 == len(argv) or argv[i + 1].startswith("--")):
            out.append("")
    return out


def resolve_options(
    argv: Sequence[str], required: Sequence[str], optional: dict[str, str]
) -> dict[str, str]:
    """The ``required`` arguments and the ``optional`` ones (their defaults when absent).

    Required ones missing fail in getResolvedOptions, naming the argument.
    """
    present = [name for name in optional if _given(argv, name)]
    resolved = getResolvedOptions(_with_empty_values(argv, present), [*required, *present])
    return {**optional, **{k: v for k, v in resolved.items() if v is not None}}


@dataclass(frozen=True)
class JobArgs:
    job_name: str
    run_date: date
    domain: str
    full_refresh: tuple[str, ...]
    metrics_path: str
    run_id: str = ""  # the workflow execution's name
    job_run_id: str = ""  # Glue's --JOB_RUN_ID: one per attempt
    environment: str = LOCAL  # --environment: local or aws
    run_date_given: bool = True  # False: no --run_date, so today's UTC date


def resolve_job_args(argv: Sequence[str]) -> JobArgs:
    resolved = resolve_options(argv, ["JOB_NAME"], OPTIONAL_DEFAULTS)
    environment = resolved["environment"]
    if environment not in ENVIRONMENTS:
        raise ConfigError(f"--environment must be one of {ENVIRONMENTS}, got {environment!r}")
    domain = resolved["domain"]
    if domain and domain not in DOMAINS:
        raise ConfigError(f"--domain must be one of {DOMAINS}, got {domain!r}")
    refresh = tuple(
        validate_identifier(t.strip(), "table name")
        for t in resolved["full_refresh"].split(",")
        if t.strip() and t.strip() != NO_FULL_REFRESH
    )
    given = bool(resolved["run_date"])
    return JobArgs(
        job_name=resolved["JOB_NAME"],
        run_date=parse_run_date(resolved["run_date"]) if given else datetime.now(UTC).date(),
        run_date_given=given,
        domain=domain,
        full_refresh=refresh,
        metrics_path=resolved["metrics_path"],
        run_id=validate_run_id(resolved["run_id"]),
        job_run_id=resolved.get("JOB_RUN_ID") or "",
        environment=environment,
    )


def validate_run_id(run_id: str) -> str:
    """A run id names a folder: letters, digits, '-' and '_' only."""
    if run_id and not is_run_id(run_id):
        raise ConfigError(f"invalid --run_id {run_id!r}: letters, digits, '-' and '_' only")
    return run_id
