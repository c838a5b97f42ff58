"""A Glue job run's AWS side, emulated for the unit tests: moto in-process with test
credentials (``emulated_aws``), the Aurora secret in Secrets Manager
(``create_source_secret``, its password generated per test session) and the exact argument
list Glue passes a run of the apartments extract (``glue_argv``). Shared by
test_glue_settings, test_glue_runtime and test_glue_storage.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import boto3
from moto import mock_aws

REGION = "eu-west-1"
ACCOUNT = "123456789012"
PASSWORD = secrets.token_urlsafe(16)  # generated: no password is written in the repository
SECRET = {
    "engine": "mysql",
    "host": "rentals.cluster-abc.eu-west-1.rds.amazonaws.com",
    "port": 3306,
    "username": "rentals_etl",
    "password": PASSWORD,
    "dbname": "rental_db",
}
COPY_ROLE = f"arn:aws:iam::{ACCOUNT}:role/rental-analytics-redshift-copy"
RUN_ID = "4f1c2b9e-0c1d-4e55-9d7a-6b3f1f0d2a11"
JOB_RUN_ID = "jr_0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9"


def glue_argv(secret_arn: str, **overrides: str | None) -> list[str]:
    """sys.argv of a Glue run of the apartments extract, as Glue builds it: its reserved
    arguments, the job's DefaultArguments merged with the run's Arguments, --JOB_NAME."""
    defaults = {
        "--job-language": "python",
        "--environment": "aws",
        "--lake_root": f"s3://rental-analytics-lake-{ACCOUNT}-{REGION}/lake",
        "--landing_root": f"s3://rental-analytics-landing-{ACCOUNT}-{REGION}/landing",
        "--state_root": f"s3://rental-analytics-lake-{ACCOUNT}-{REGION}/state",
        "--source_secret_id": secret_arn,
        "--redshift_database": "dev",
        "--redshift_workgroup": "rental-analytics",
        "--redshift_cluster_id": "",
        "--redshift_secret_arn": "",
        "--redshift_copy_role_arn": COPY_ROLE,
        "--schema_drift": "fail",
        "--bookings_lookback_days": "45",
        "--additional-python-modules": (
            f"s3://rental-analytics-scripts-{ACCOUNT}-{REGION}/artifacts/0.1.0-abc1234/"
            "rental_analytics-0.1.0-py3-none-any.whl"
        ),
        "--python-modules-installer-option": "--no-deps",
        "--TempDir": f"s3://rental-analytics-glue-temp-{ACCOUNT}-{REGION}/temporary/",
        "--job-bookmark-option": "job-bookmark-disable",
        "--enable-continuous-cloudwatch-log": "true",
        "--enable-metrics": "true",
        "--domain": "apartments",
    }
    run = {"--run_date": "2024-05-01", "--full_refresh": "none", "--run_id": RUN_ID}
    arguments = {**defaults, **run}
    for name, value in overrides.items():
        if value is None:
            arguments.pop(f"--{name}", None)
        else:
            arguments[f"--{name}"] = value
    argv = ["/tmp/glue_jobs/extract.py", "--JOB_ID", "j_0123456789abcdef"]
    argv += ["--JOB_RUN_ID", JOB_RUN_ID]
    for key, value in arguments.items():
        argv += [key, value]
    return [*argv, "--JOB_NAME", "rental-analytics-extract_apartments"]


@contextmanager
def emulated_aws(monkeypatch) -> Iterator[None]:
    """moto in-process, with test credentials and the region; no file of this machine may
    lend a region or credentials."""
    for name in ("AWS_PROFILE", "AWS_REGION", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/aws-config")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/aws-credentials")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    with mock_aws():
        yield


def create_source_secret(secret_string: str = "", name: str = "rental-analytics/aurora") -> str:
    """The Aurora secret in (emulated) Secrets Manager; its ARN."""
    client = boto3.client("secretsmanager", region_name=REGION)
    return client.create_secret(Name=name, SecretString=secret_string or json.dumps(SECRET))["ARN"]
