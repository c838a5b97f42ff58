"""The typed loader of a Glue job run's settings: the exact argument list Glue passes (the
job's DefaultArguments of the AWS contract, the state machine's run arguments, Glue's own),
the Aurora secret in Secrets Manager (moto in-process), and what stays local."""

from __future__ import annotations

import json
from datetime import date

import pytest

from rental_analytics.aws.settings import aws_settings, database_from_secret
from rental_analytics.config import (
    MARIADB_JDBC_DRIVER,
    MYSQL_JDBC_DRIVER,
    ConfigError,
    DatabaseSettings,
    Settings,
)
from rental_analytics.jobs.args import AWS, LOCAL, resolve_job_args
from rental_analytics.jobs.runtime import job_settings
from tests.support.glue_aws import (
    ACCOUNT,
    COPY_ROLE,
    JOB_RUN_ID,
    PASSWORD,
    REGION,
    RUN_ID,
    SECRET,
    create_source_secret,
    emulated_aws,
    glue_argv,
)


@pytest.fixture
def aws(monkeypatch):
    with emulated_aws(monkeypatch):
        yield


@pytest.fixture
def secret_arn(aws) -> str:
    return create_source_secret()


def test_the_exact_glue_argument_list_makes_aws_settings(secret_arn):
    argv = glue_argv(secret_arn)
    args = resolve_job_args(argv)
    assert (args.job_name, args.run_date) == (
        "rental-analytics-extract_apartments",
        date(2024, 5, 1),
    )
    assert (args.domain, args.full_refresh, args.environment) == ("apartments", (), AWS)
    assert (args.run_id, args.job_run_id, args.metrics_path) == (RUN_ID, JOB_RUN_ID, "")

    s = job_settings(args, argv)

    assert s.home is None and s.warehouse is None and s.runs_root == ""
    assert s.lake_root == f"s3://rental-analytics-lake-{ACCOUNT}-{REGION}/lake"
    assert s.landing_root == f"s3://rental-analytics-landing-{ACCOUNT}-{REGION}/landing"
    assert s.bookmarks_root == f"s3://rental-analytics-lake-{ACCOUNT}-{REGION}/state"
    assert s.source == DatabaseSettings(SECRET["host"], 3306, "rentals_etl", PASSWORD, "rental_db")
    assert s.source_jdbc_driver == MYSQL_JDBC_DRIVER == "com.mysql.cj.jdbc.Driver"
    assert s.source_jdbc_jars == ()
    # TLS only, and a server-side cursor so Connector/J honours the reader's fetchsize
    # instead of reading each JDBC partition whole into memory.
    assert s.source_jdbc_url == (
        f"jdbc:mysql://{SECRET['host']}:3306/rental_db?sslMode=REQUIRED&useCursorFetch=true"
    )
    assert (s.schema_drift, s.bookings_lookback_days, s.spark_master) == ("fail", 45, "")
    r = s.redshift
    assert (r.database, r.workgroup, r.cluster_id, r.secret_arn) == (
        "dev",
        "rental-analytics",
        "",
        "",
    )
    assert (r.copy_role_arn, r.region) == (COPY_ROLE, REGION)


def test_a_provisioned_cluster_and_empty_arguments_given_without_a_value(aws, secret_arn):
    argv = glue_argv(
        secret_arn,
        redshift_workgroup=None,
        redshift_cluster_id="rentals-dw",
        redshift_secret_arn=f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:rs-user-AbCdEf",
    )
    # an empty argument may arrive with no value at all: it still reads as "not set"
    at = argv.index("--domain")
    argv[at:at] = ["--redshift_workgroup"]
    s = aws_settings(argv)
    assert (s.redshift.workgroup, s.redshift.cluster_id) == ("", "rentals-dw")
    assert s.redshift.secret_arn.endswith(":secret:rs-user-AbCdEf")
    assert resolve_job_args(argv).domain == "apartments"


def test_optional_arguments_take_their_defaults(secret_arn):
    absent = [
        "redshift_database",
        "redshift_cluster_id",
        "redshift_secret_arn",
        "redshift_copy_role_arn",
        "schema_drift",
        "bookings_lookback_days",
        "domain",
        "run_id",
        "full_refresh",
    ]
    argv = glue_argv(secret_arn, **dict.fromkeys(absent))
    s = aws_settings(argv)
    assert (s.redshift.database, s.redshift.copy_role_arn, s.redshift.secret_arn) == ("dev", "", "")
    assert (s.schema_drift, s.bookings_lookback_days) == ("ignore", 30)
    args = resolve_job_args(argv)
    assert (args.domain, args.run_id, args.full_refresh) == ("", "", ())


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"state_root": None}, "state_root"),
        ({"source_secret_id": None}, "source_secret_id"),
        ({"source_secret_id": ""}, "source_secret_id is empty"),
        ({"lake_root": "/data/lake"}, "--lake_root must be an s3:// URI"),
        ({"landing_root": "s3://"}, "--landing_root must be an s3:// URI"),
        ({"schema_drift": "warn"}, "invalid --schema_drift 'warn'"),
        ({"bookings_lookback_days": "-1"}, "invalid --bookings_lookback_days '-1'"),
        ({"bookings_lookback_days": "30d"}, "invalid --bookings_lookback_days '30d'"),
        ({"redshift_cluster_id": "rentals-dw"}, "exactly one of a workgroup and a cluster id"),
        ({"redshift_workgroup": ""}, "exactly one of a workgroup and a cluster id"),
    ],
)
def test_bad_arguments_are_refused_by_name(secret_arn, overrides, message):
    with pytest.raises(Exception, match=message):
        aws_settings(glue_argv(secret_arn, **overrides))


def test_an_unknown_environment_is_refused(secret_arn):
    with pytest.raises(ConfigError, match="--environment must be one of"):
        resolve_job_args(glue_argv(secret_arn, environment="gcp"))


def test_the_region_comes_from_the_session_else_the_secret_arn(aws, secret_arn, monkeypatch):
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    assert aws_settings(glue_argv(secret_arn)).redshift.region == REGION
    with pytest.raises(ConfigError, match="no AWS region"):
        aws_settings(glue_argv("rental-analytics/aurora"))


def test_the_secret_may_be_named_instead_of_its_arn(secret_arn):
    s = aws_settings(glue_argv("rental-analytics/aurora"))
    assert s.source.host == SECRET["host"]


def test_a_missing_secret_fails_the_run(secret_arn):
    with pytest.raises(Exception, match="ResourceNotFoundException"):
        aws_settings(glue_argv("rental-analytics/nothing-here"))


@pytest.mark.parametrize(
    ("secret_string", "message"),
    [
        (json.dumps({**SECRET, "host": ""}), "lacks host"),
        (json.dumps({k: v for k, v in SECRET.items() if k != "dbname"}), "lacks dbname"),
        (json.dumps({**SECRET, "port": "three"}), "port is not a number"),
        ("password=" + PASSWORD, "does not hold a JSON SecretString"),
        (json.dumps([PASSWORD]), "does not hold a JSON object"),
    ],
    # Named by what is wrong, not by the value: the generated password would otherwise be
    # printed in the ids of the two cases that hold it, which would differ from one
    # collection to the next (pytest-xdist refuses tests whose workers collect other ids).
    ids=["no host", "no dbname", "port not a number", "not JSON", "not an object"],
)
def test_a_malformed_secret_is_named_never_shown(aws, secret_string, message):
    arn = create_source_secret(secret_string, name="bad")
    with pytest.raises(ConfigError, match=message) as err:
        aws_settings(glue_argv(arn))
    assert PASSWORD not in str(err.value) and "three" not in str(err.value)


def test_secret_port_defaults_to_mysql_and_settings_never_show_the_password(secret_arn):
    db = database_from_secret({k: v for k, v in SECRET.items() if k != "port"}, "s")
    assert db.port == 3306
    s = aws_settings(glue_argv(secret_arn))
    for text in (repr(s), str(s), str(s.source), repr(s.source)):
        assert PASSWORD not in text


# -- what stays local ---------------------------------------------------------------------------
def test_without_environment_the_settings_are_the_local_home(tmp_path, monkeypatch):
    (tmp_path / "stack.json").write_text(json.dumps({"mariadb_port": 3307, "postgres_port": 5433}))
    (tmp_path / "secrets.json").write_text(
        json.dumps(
            {"mariadb_password": "m", "postgres_password": "p", "warehouse_job_password": "j"}
        )
    )
    monkeypatch.setenv("RENTALS_HOME", str(tmp_path))
    argv = ["extract.py", "--JOB_NAME", "extract_apartments", "--run_date", "2024-05-01"]
    args = resolve_job_args(argv)
    assert args.environment == LOCAL
    s = job_settings(args, argv)
    assert s == Settings.local(tmp_path, identity="job")  # jobs log in as rentals_job
    assert (s.warehouse.user, s.warehouse.password) == ("rentals_job", "j")
    assert s.redshift is None and s.warehouse.port == 5433
    assert s.source_jdbc_driver == MARIADB_JDBC_DRIVER
    # the MariaDB URL of before, byte for byte
    assert s.source_jdbc_url == (
        "jdbc:mysql://127.0.0.1:3307/rental_db?permitMysqlScheme&useUnicode=true"
    )
    assert s.source_jdbc_jars == ("/usr/share/java/mariadb-java-client.jar",)
    assert s.spark_master == "local[2]"


def test_settings_need_a_warehouse():
    db = DatabaseSettings("h", 1, "u", "p", "d")
    with pytest.raises(ConfigError, match="no warehouse"):
        Settings(home=None, lake_root="", landing_root="", bookmarks_root="", runs_root="",
                 source=db)  # fmt: skip
