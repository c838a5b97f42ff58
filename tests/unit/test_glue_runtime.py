"""The frame of a job run in AWS: JSON log lines for CloudWatch, metrics on stdout only, no
password in any output, and a non-zero exit of the glue_jobs/ scripts on any failure."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from rental_analytics.jobs import faults, runtime
from rental_analytics.jobs.args import AWS, LOCAL
from rental_analytics.jobs.runtime import JsonLogFormatter, configure_logging, run_job
from tests.support.glue_aws import (
    JOB_RUN_ID,
    PASSWORD,
    RUN_ID,
    create_source_secret,
    emulated_aws,
    glue_argv,
)

REPO = Path(__file__).resolve().parents[2]
GLUE_SCRIPTS = ["extract.py", "load_raw.py", "curate.py"]
JSON_FIELDS = ["time", "level", "logger", "message", "job", "run_id"]


@pytest.fixture
def secret_arn(monkeypatch) -> Iterator[str]:
    with emulated_aws(monkeypatch):
        yield create_source_secret()


@pytest.fixture
def root_logging():
    """Leaves the root logger as the test found it: configure_logging replaces handlers."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield root
    for handler in root.handlers[:]:
        if handler not in handlers:
            root.removeHandler(handler)
    for handler in handlers:
        if handler not in root.handlers:
            root.addHandler(handler)
    root.setLevel(level)


def json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_a_json_log_record_has_the_fields_cloudwatch_queries():
    formatter = JsonLogFormatter(job="rental-analytics-curate", run_id=RUN_ID)
    record = logging.LogRecord(
        "rental_analytics.jobs", logging.WARNING, __file__, 1, "merged %d rows\ninto %s", (3, "x"),
        None,
    )  # fmt: skip
    record.created = 1714528800.25  # 2024-05-01T02:00:00.250Z
    line = formatter.format(record)
    assert "\n" not in line
    doc = json.loads(line)
    assert list(doc) == JSON_FIELDS
    assert doc == {
        "time": "2024-05-01T02:00:00.250+00:00",
        "level": "WARNING",
        "logger": "rental_analytics.jobs",
        "message": "merged 3 rows\ninto x",
        "job": "rental-analytics-curate",
        "run_id": RUN_ID,
    }


def test_a_json_log_record_carries_the_traceback():
    try:
        raise ValueError("bad batch")
    except ValueError:
        record = logging.LogRecord("r", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    doc = json.loads(JsonLogFormatter().format(record))
    assert doc["exception"].startswith("Traceback") and "ValueError: bad batch" in doc["exception"]
    assert (doc["job"], doc["run_id"]) == ("", "")


def test_in_aws_every_logger_writes_json_lines_to_stderr(root_logging, capsys):
    configure_logging(AWS, "rental-analytics-load_raw", RUN_ID)
    logging.getLogger("rental_analytics.warehouse").info("loaded %s", "stg_bookings")
    logging.getLogger("botocore.credentials").warning("found credentials")
    logging.getLogger("rental_analytics").debug("not at INFO")
    captured = capsys.readouterr()
    assert captured.out == ""
    docs = json_lines(captured.err)
    assert [(d["logger"], d["level"], d["message"]) for d in docs] == [
        ("rental_analytics.warehouse", "INFO", "loaded stg_bookings"),
        ("botocore.credentials", "WARNING", "found credentials"),
    ]
    assert {(d["job"], d["run_id"]) for d in docs} == {("rental-analytics-load_raw", RUN_ID)}


def test_locally_the_log_format_is_unchanged(root_logging):
    for handler in root_logging.handlers[:]:
        root_logging.removeHandler(handler)
    configure_logging(LOCAL)
    (handler,) = root_logging.handlers
    assert handler.formatter._fmt == "%(asctime)s %(levelname)s %(name)s: %(message)s"
    assert handler.stream is sys.stderr


def test_an_aws_run_logs_json_and_prints_its_metrics_once(
    secret_arn, root_logging, capsys, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    seen = {}

    def body(args, settings, spark):
        seen.update(args=args, settings=settings, spark=spark)
        logging.getLogger("rental_analytics.jobs").info("settings: %s / %r", settings, settings)
        return {"tables": [{"table": "apartments", "rows": 3}]}

    assert run_job(glue_argv(secret_arn), body, needs_spark=False) == 0

    assert seen["spark"] is None and seen["settings"].runs_root == ""
    assert seen["args"].job_run_id == JOB_RUN_ID
    assert runtime.metrics_path(seen["args"], seen["settings"]) == ""
    assert list(tmp_path.iterdir()) == []  # no metrics file anywhere near
    captured = capsys.readouterr()
    assert json_lines(captured.out) == [
        {
            "job": "rental-analytics-extract_apartments",
            "metrics": {"tables": [{"table": "apartments", "rows": 3}]},
        }
    ]
    docs = json_lines(captured.err)  # every stderr line is a JSON record, botocore's too
    assert all(list(d) == JSON_FIELDS for d in docs)
    assert {(d["job"], d["run_id"]) for d in docs} == {
        ("rental-analytics-extract_apartments", RUN_ID)
    }
    ours = [d["message"] for d in docs if d["logger"].startswith("rental_analytics")]
    assert len(ours) == 4
    assert ours[0] == "job rental-analytics-extract_apartments started: run date 2024-05-01 (aws)"
    import boto3
    import botocore

    assert ours[1] == f"AWS SDK: boto3 {boto3.__version__}, botocore {botocore.__version__}"
    assert ours[2].startswith("settings: ") and "rentals.cluster-abc" in ours[2]
    assert ours[3].startswith("job rental-analytics-extract_apartments succeeded in ")
    assert PASSWORD not in captured.out + captured.err  # the settings, never the password


def test_a_failing_body_fails_the_run(secret_arn, root_logging):
    def body(args, settings, spark):
        raise RuntimeError("the warehouse refused the merge")

    with pytest.raises(RuntimeError, match="refused the merge"):
        run_job(glue_argv(secret_arn), body, needs_spark=False)


def test_a_botocore_without_data_api_sessions_fails_the_aws_run_at_start(
    secret_arn, root_logging, monkeypatch
):
    """An older botocore (before 2024-08-30) has no ExecuteStatement SessionKeepAliveSeconds:
    the job stops before its body, naming what is missing and what to do."""
    import botocore.session

    real = botocore.session.Session.get_service_model

    def without_sessions(self, name, api_version=None):
        model = real(self, name, api_version)
        if name == "redshift-data":
            members = model.operation_model("ExecuteStatement").input_shape.members
            members.pop("SessionKeepAliveSeconds", None)
        return model

    monkeypatch.setattr(botocore.session.Session, "get_service_model", without_sessions)
    ran = []
    with pytest.raises(RuntimeError, match="SessionKeepAliveSeconds.*additional-python-modules"):
        run_job(glue_argv(secret_arn), lambda *a: ran.append(a), needs_spark=False)
    assert ran == []


def test_deploy_ships_pinned_boto3_botocore_and_s3transfer():
    from rental_analytics.aws.packaging import GLUE_RUNTIME_MODULES, glue_runtime_modules

    assert [m.split("==")[0] for m in GLUE_RUNTIME_MODULES] == ["boto3", "botocore", "s3transfer"]
    assert all("==" in m for m in GLUE_RUNTIME_MODULES)
    assert glue_runtime_modules() == ",".join(GLUE_RUNTIME_MODULES)
    # The pins are what this code is tested with, and they have the Data API sessions.
    import boto3
    import botocore
    import s3transfer

    installed = {"boto3": boto3, "botocore": botocore, "s3transfer": s3transfer}
    for pin in GLUE_RUNTIME_MODULES:
        name, version = pin.split("==")
        assert installed[name].__version__ == version, pin
    runtime.require_data_api_sessions()


def _run_script(script: str, argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("RENTALS_", "AWS_"))}
    clean.update(AWS_EC2_METADATA_DISABLED="true", **env)
    return subprocess.run(
        [sys.executable, str(REPO / "glue_jobs" / script), *argv[1:]],
        capture_output=True,
        text=True,
        env=clean,
        cwd=REPO,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("script", GLUE_SCRIPTS)
def test_a_glue_script_exits_non_zero_on_a_failure(script):
    argv = glue_argv("arn:aws:secretsmanager:eu-west-1:123456789012:secret:x", state_root=None)
    done = _run_script(script, argv, {})
    assert done.returncode != 0
    assert "state_root" in done.stderr


def test_a_local_run_told_to_fail_exits_non_zero():
    argv = ["x.py", "--JOB_NAME", "curate", "--run_date", "2024-05-01"]
    done = _run_script("curate.py", argv, {faults.INJECTED_FAULT_ENV: "told to fail"})
    assert done.returncode == 1
    assert "InjectedFault: told to fail" in done.stderr


# A Glue run's driver: the launcher has configured Spark (here: its master) before the
# script starts; the job takes that session and leaves it running for Glue to stop.
GLUE_DRIVER = """
import json, sys
sys.path.insert(0, sys.argv[1])
from moto import mock_aws
from pyspark.sql import SparkSession
from rental_analytics.jobs.runtime import run_job
from tests.support.glue_aws import create_source_secret, glue_argv

def body(args, settings, spark):
    return {"master": spark.sparkContext.master,
            "time_zone": spark.conf.get("spark.sql.session.timeZone"),
            "jars": spark.conf.get("spark.jars", "")}

with mock_aws():
    code = run_job(glue_argv(create_source_secret()), body)
active = SparkSession.getActiveSession()
print(json.dumps({"code": code, "still_running": active is not None
                  and not active.sparkContext._jsc.sc().isStopped()}))
"""


def test_an_aws_run_takes_the_session_glue_configured_and_leaves_it_running(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RENTALS_", "AWS_"))}
    env.update(
        AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="eu-west-1", AWS_CONFIG_FILE="/nonexistent/aws-config",
        AWS_SHARED_CREDENTIALS_FILE="/nonexistent/aws-credentials",
        PYSPARK_SUBMIT_ARGS="--master local[1] --conf spark.ui.enabled=false pyspark-shell",
    )  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-c", GLUE_DRIVER, str(REPO)],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    metrics, result = json_lines(done.stdout)[-2:]
    assert metrics["metrics"] == {"master": "local[1]", "time_zone": "UTC", "jars": ""}
    assert result == {"code": 0, "still_running": True}
