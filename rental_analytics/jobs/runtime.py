"""What a job needs around its body: settings, a SparkSession, a metrics sink.

This is the one place that knows where a job runs. Locally the settings come from the home
that `rentals up` prepared and Spark runs in-process; the AWS side (GlueContext, Secrets
Manager, S3 state) belongs to the deployment work and plugs in here.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from dataclasses import asdict, is_dataclass
from pathlib import Path
from typing import Any

from rental_analytics.config import Settings
from rental_analytics.kill_points import arm_kill_timer

log = logging.getLogger("rental_analytics")

# Set by the local emulator when a test or a demo asked this job run to fail (RENTALS_FAIL_JOBS).
INJECTED_FAULT_ENV = "RENTALS_INJECTED_FAULT"


class InjectedFault(RuntimeError):
    """The job run was told to fail, so that retries and alerts can be watched."""


def configure_logging() -> None:
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


def job_settings() -> Settings:
    return Settings.local()


def job_spark(app_name: str, settings: Settings):
    from rental_analytics.spark import local_session

    return local_session(app_name, settings.spark_master, settings.source_jdbc_jars)


def write_metrics(path: str, job: str, metrics: Any) -> None:
    """Structured job metrics: one JSON line on stdout, and a file when a path is given."""
    doc = {"job": job, "metrics": asdict(metrics) if is_dataclass(metrics) else metrics}
    text = json.dumps(doc, default=str)
    print(text, flush=True)
    if path:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(text + "\n")


def metrics_path(args, settings: Settings) -> str:
    """Where the job's metrics go: the explicit path, else beside the workflow run's logs."""
    from rental_analytics.runs import job_metrics_path

    if args.metrics_path or not (args.run_id and args.job_run_id):
        return args.metrics_path
    return str(job_metrics_path(settings.runs_root, args.run_id, args.job_name, args.job_run_id))


def run_job(argv: list[str], body, *, needs_spark: bool = True) -> int:
    """The frame every Glue entrypoint shares: arguments, settings, Spark, metrics.

    ``body(args, settings, spark)`` returns the job's metrics. Any exception propagates, so
    the process exits non-zero and the orchestrator sees the failure.
    """
    from rental_analytics.jobs.args import resolve_job_args

    configure_logging()
    arm_kill_timer()
    args = resolve_job_args(argv)
    if os.environ.get(INJECTED_FAULT_ENV):
        raise InjectedFault(os.environ[INJECTED_FAULT_ENV])
    settings = job_settings()
    spark = job_spark(args.job_name, settings) if needs_spark else None
    try:
        metrics = body(args, settings, spark)
    finally:
        if spark is not None:
            spark.stop()
    write_metrics(metrics_path(args, settings), args.job_name, metrics)
    return 0
