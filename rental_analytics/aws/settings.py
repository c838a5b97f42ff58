"""Settings of a job run in AWS Glue, from its job arguments and Secrets Manager.

A Glue job's ``DefaultArguments`` (infra template) carry ``--environment aws``, the S3 roots,
the Aurora secret and the Redshift target; the state machine adds ``--run_date``,
``--full_refresh`` and ``--run_id``, Glue its own (``--JOB_NAME``, ``--JOB_RUN_ID``,
``--TempDir``, ``--enable-metrics``, ...), which are ignored here. Nothing in this module
holds a bucket, host or password: they come from those arguments and the secret.

Spark: the job uses the SparkSession of the Glue run (``SparkSession.builder.getOrCreate()``,
see ``jobs/runtime.py``) and no GlueContext. Glue configures that session before the script
starts (S3 file system, metrics, continuous logging); GlueContext would only add
DynamicFrames and Glue's own job bookmarks, and this project reads with plain Spark and
keeps its own bookmarks (SPEC section 3), the same code as locally, where awsglue's
GlueContext cannot run.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rental_analytics.config import (
    MYSQL_JDBC_DRIVER,
    SCHEMA_DRIFT_IGNORE,
    ConfigError,
    DatabaseSettings,
    RedshiftSettings,
    Settings,
    parse_schema_drift,
)
from rental_analytics.jobs.args import resolve_options

REQUIRED = ("lake_root", "landing_root", "state_root", "source_secret_id")
# Every job gets all of these from the template; "" means "not set".
OPTIONAL_DEFAULTS = {
    "redshift_database": "dev",
    "redshift_workgroup": "",
    "redshift_cluster_id": "",
    "redshift_secret_arn": "",
    "redshift_copy_role_arn": "",
    "schema_drift": SCHEMA_DRIFT_IGNORE,
    "bookings_lookback_days": "30",
}
MYSQL_DEFAULT_PORT = 3306


@dataclass(frozen=True)
class AwsJobArguments:
    """The job arguments that make the Settings of a Glue run (job-level ones are JobArgs)."""

    lake_root: str
    landing_root: str
    state_root: str
    source_secret_id: str
    redshift_database: str
    redshift_workgroup: str
    redshift_cluster_id: str
    redshift_secret_arn: str
    redshift_copy_role_arn: str
    schema_drift: str
    bookings_lookback_days: int


def _s3_root(value: str, name: str) -> str:
    if not value.startswith("s3://") or len(value.rstrip("/")) <= len("s3://"):
        raise ConfigError(f"--{name} must be an s3:// URI, got {value!r}")
    return value.rstrip("/")


def _lookback_days(value: str) -> int:
    try:
        days = int(value)
    except ValueError:
        days = -1
    if days < 0:
        raise ConfigError(f"invalid --bookings_lookback_days {value!r}: expected an integer >= 0")
    return days


def resolve_aws_arguments(argv: Sequence[str]) -> AwsJobArguments:
    """The AWS arguments of ``argv`` (``sys.argv`` of the Glue run), checked."""
    a = resolve_options(argv, REQUIRED, OPTIONAL_DEFAULTS)
    if not a["source_secret_id"]:
        raise ConfigError("--source_secret_id is empty: the Aurora secret's ARN or name")
    return AwsJobArguments(
        lake_root=_s3_root(a["lake_root"], "lake_root"),
        landing_root=_s3_root(a["landing_root"], "landing_root"),
        state_root=_s3_root(a["state_root"], "state_root"),
        source_secret_id=a["source_secret_id"],
        redshift_database=a["redshift_database"] or OPTIONAL_DEFAULTS["redshift_database"],
        redshift_workgroup=a["redshift_workgroup"],
        redshift_cluster_id=a["redshift_cluster_id"],
        redshift_secret_arn=a["redshift_secret_arn"],
        redshift_copy_role_arn=a["redshift_copy_role_arn"],
        schema_drift=parse_schema_drift(a["schema_drift"] or SCHEMA_DRIFT_IGNORE, "--schema_drift"),
        bookings_lookback_days=_lookback_days(a["bookings_lookback_days"] or "30"),
    )


def database_from_secret(secret: dict[str, Any], secret_id: str) -> DatabaseSettings:
    """DatabaseSettings from an RDS secret's JSON: host, port, username, password, dbname.

    Error messages name the secret and the missing keys, never a value.
    """
    missing = [k for k in ("host", "username", "password", "dbname") if not secret.get(k)]
    if missing:
        raise ConfigError(f"secret {secret_id} lacks {', '.join(missing)} (RDS secret JSON)")
    try:
        port = int(secret.get("port") or MYSQL_DEFAULT_PORT)
    except (TypeError, ValueError):
        raise ConfigError(f"secret {secret_id}: port is not a number") from None
    return DatabaseSettings(
        host=str(secret["host"]),
        port=port,
        user=str(secret["username"]),
        password=str(secret["password"]),
        database=str(secret["dbname"]),
    )


def read_source_secret(secret_id: str, secretsmanager) -> DatabaseSettings:
    """The Aurora credentials kept in Secrets Manager under ``secret_id``."""
    value = secretsmanager.get_secret_value(SecretId=secret_id)
    try:
        secret = json.loads(value["SecretString"])
    except (KeyError, TypeError, json.JSONDecodeError):
        raise ConfigError(f"secret {secret_id} does not hold a JSON SecretString") from None
    if not isinstance(secret, dict):
        raise ConfigError(f"secret {secret_id} does not hold a JSON object")
    return database_from_secret(secret, secret_id)


def _region_of_arn(arn: str) -> str:
    parts = arn.split(":")
    return parts[3] if arn.startswith("arn:") and len(parts) > 3 else ""


def aws_region(session, secret_id: str) -> str:
    """The region of the run: the session's (AWS_REGION in Glue), else the secret ARN's."""
    region = session.region_name or _region_of_arn(secret_id)
    if not region:
        raise ConfigError("no AWS region: set AWS_REGION or pass the secret as an ARN")
    return region


def aws_settings(argv: Sequence[str], session=None) -> Settings:
    """The Settings of a Glue job run: S3 roots, Aurora through Connector/J with the
    credentials of ``--source_secret_id``, Redshift, Spark of the Glue run."""
    args = resolve_aws_arguments(argv)
    if session is None:
        import boto3  # deferred: slow to import, and a caller may pass its own session

        session = boto3.session.Session()
    region = aws_region(session, args.source_secret_id)
    source = read_source_secret(
        args.source_secret_id, session.client("secretsmanager", region_name=region)
    )
    return Settings(
        home=None,
        lake_root=args.lake_root,
        landing_root=args.landing_root,
        bookmarks_root=args.state_root,
        runs_root="",
        source=source,
        warehouse=None,
        source_jdbc_driver=MYSQL_JDBC_DRIVER,
        source_jdbc_jars=(),  # Glue ships MySQL Connector/J
        bookings_lookback_days=args.bookings_lookback_days,
        spark_master="",
        schema_drift=args.schema_drift,
        redshift=RedshiftSettings(
            database=args.redshift_database,
            copy_role_arn=args.redshift_copy_role_arn,
            workgroup=args.redshift_workgroup,
            cluster_id=args.redshift_cluster_id,
            secret_arn=args.redshift_secret_arn,
            region=region,
        ),
    )
