"""What a job needs around its body: settings, a SparkSession, logs, a metrics sink.

This is the one place that knows where a job runs, from its ``--environment`` argument.
Locally (the default) the settings come from the home that `rentals up` prepared, Spark
runs in-process, logs are plain text and metrics also go to a file beside the run's logs.
In AWS Glue (``--environment aws``) the settings come from the job arguments and Secrets
Manager (``rental_analytics.aws.settings``), Spark is the Glue run's session (no
GlueContext: see that module), logs are JSON lines for CloudWatch and metrics one JSON line
on stdout.
"""

from __future__ import annotations

import importlib.metadata
import json
import logging
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, is_dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rental_analytics.config import Settings
from rental_analytics.jobs.args import AWS, LOCAL, JobArgs, resolve_job_args
from rental_analytics.jobs.faults import arm_kill_timer, fail_if_told
from rental_analytics.runs import job_metrics_path

log = logging.getLogger("rental_analytics")


class JsonLogFormatter(logging.Formatter):
    """One JSON object per record: time (UTC), level, logger, message, job, run_id, and the
    traceback when there is one. CloudWatch Logs Insights reads the fields as they are."""

    def __init__(self, job: str = "", run_id: str = ""):
        super().__init__()
        self.job = job
        self.run_id = run_id

    def format(self, record: logging.LogRecord) -> str:
        doc = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "job": self.job,
            "run_id": self.run_id,
        }
        if record.exc_info:
            doc["exception"] = self.formatException(record.exc_info)
        return json.dumps(doc, default=str)


def configure_logging(environment: str = LOCAL, job: str = "", run_id: str = "") -> None:
    """Plain text on stderr locally; in AWS JSON lines on stderr (Glue sends the driver's
    stderr to CloudWatch), replacing any handler the Glue runtime set up."""
    if environment == AWS:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonLogFormatter(job, run_id))
        logging.basicConfig(level=logging.INFO, handlers=[handler], force=True)
        return
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


def job_settings(args: JobArgs, argv: Sequence[str]) -> Settings:
    """The Settings of this run: from the local home, or from the Glue job's arguments."""
    if args.environment == AWS:
        # AWS only: Secrets Manager through boto3, which a local job does not load.
        from rental_analytics.aws.settings import aws_settings

        return aws_settings(argv)
    return Settings.local(identity="job")  # jobs run no DDL (SPEC 8)


def job_spark(app_name: str, settings: Settings):
    # pyspark imported here: the curate job runs without Spark (needs_spark=False).
    if not settings.spark_master:
        # In Glue the runtime has configured the session (S3, metrics, logging) before the
        # script starts: take it, with the session settings every job needs.
        from pyspark.sql import SparkSession

        from rental_analytics.spark import configure_session

        return configure_session(SparkSession.builder.appName(app_name).getOrCreate())
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
    """Where the job's metrics go as a file: the explicit path, else beside the workflow
    run's logs; "" (stdout only) when runs are not kept as files (AWS: CloudWatch has it)."""
    if args.metrics_path or not (args.run_id and args.job_run_id and settings.runs_root):
        return args.metrics_path
    return str(job_metrics_path(settings.runs_root, args.run_id, args.job_name, args.job_run_id))


def aws_sdk_versions() -> dict[str, str]:
    """The boto3 and botocore this process imports (Glue's own, or the pinned ones): the
    versions of the first of their installs on sys.path, where an import finds them. Read
    from the installs' metadata: importing boto3 to read them cost every job 0.1-0.3 s
    before its first step, and a local job needs no boto3."""
    return {name: importlib.metadata.version(name) for name in ("boto3", "botocore")}


def require_data_api_sessions() -> None:
    """Fail at job start, saying what to do, when botocore lacks the Data API sessions the
    Redshift warehouse needs (ExecuteStatement SessionId/SessionKeepAliveSeconds, 2024-08-30).
    Read from botocore's own service model: no call to AWS."""
    import botocore.session  # deferred: slow to import, only AWS jobs check it

    model = botocore.session.get_session().get_service_model("redshift-data")
    members = model.operation_model("ExecuteStatement").input_shape.members
    missing = [m for m in ("SessionId", "SessionKeepAliveSeconds") if m not in members]
    if missing:
        versions = ", ".join(f"{k} {v}" for k, v in aws_sdk_versions().items())
        raise RuntimeError(
            f"this job's botocore has no Redshift Data API sessions (ExecuteStatement lacks "
            f"{', '.join(missing)}; {versions}): the job's --additional-python-modules must "
            "carry the pinned boto3/botocore/s3transfer (rentals deploy sets them)"
        )


def run_job(argv: Sequence[str], body, *, needs_spark: bool = True) -> int:
    """The frame every Glue entrypoint shares: arguments, settings, Spark, logs, metrics.

    ``body(args, settings, spark)`` returns the job's metrics. Any exception propagates, so
    the process exits non-zero (``sys.exit(main())`` in glue_jobs/) and the orchestrator,
    Glue or the local emulator, sees the run fail with the exception as its error.
    """
    configure_logging()
    arm_kill_timer()
    args = resolve_job_args(argv)
    if args.environment == AWS:
        configure_logging(AWS, args.job_name, args.run_id)
    fail_if_told()
    settings = job_settings(args, argv)
    started = time.monotonic()
    log.info(
        "job %s started: run date %s%s (%s)", args.job_name, args.run_date,
        "" if args.run_date_given else ", today in UTC: no --run_date given", args.environment,
    )  # fmt: skip
    log.info("AWS SDK: %s", ", ".join(f"{k} {v}" for k, v in aws_sdk_versions().items()))
    if args.environment == AWS:
        require_data_api_sessions()
    spark = job_spark(args.job_name, settings) if needs_spark else None
    try:
        metrics = body(args, settings, spark)
    finally:
        # Glue owns its session and stops it after the script; a local one is ours.
        if spark is not None and settings.spark_master:
            spark.stop()
    write_metrics(metrics_path(args, settings), args.job_name, metrics)
    log.info("job %s succeeded in %.1f s", args.job_name, time.monotonic() - started)
    return 0
