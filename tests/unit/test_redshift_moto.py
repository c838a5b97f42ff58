"""The Redshift warehouse against moto's in-process Redshift Data API, for what moto models:
ExecuteStatement (it records the target, SQL and parameters), DescribeStatement,
GetStatementResult (a fixed three-row result) and CancelStatement.

moto runs no SQL: a statement stays STARTED until the test says it finished, which the
warehouse's ``sleep`` (called between DescribeStatement polls) does here. moto returns no
SessionId either, so sessions and transactions are tested with botocore's Stubber
(test_redshift_data_api.py)."""

import boto3
import pytest
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.redshiftdata.models import redshiftdata_backends
from moto.server import ThreadedMotoServer

from rental_analytics.config import DatabaseSettings, RedshiftSettings, Settings
from rental_analytics.warehouse import connect
from rental_analytics.warehouse.base import WarehouseError
from rental_analytics.warehouse.redshift import RedshiftWarehouse, data_api_warehouse

REGION = "eu-west-1"
ROLE = "arn:aws:iam::123456789012:role/rental-analytics-redshift-copy"
SECRET = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:redshift-user-AbCdEf"
CLUSTER = RedshiftSettings(
    database="analytics",
    copy_role_arn=ROLE,
    cluster_id="rental-analytics",
    secret_arn=SECRET,
    region=REGION,
)


@pytest.fixture
def client(monkeypatch):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    with mock_aws():
        yield boto3.client("redshift-data", region_name=REGION)


def statements():
    return redshiftdata_backends[DEFAULT_ACCOUNT_ID][REGION].statements


class Redshift:
    """Plays the database: finishes the running statements after ``polls`` sleeps."""

    def __init__(self, polls: int, *, has_result_set: bool = False):
        self.polls, self.has_result_set, self.sleeps = polls, has_result_set, []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        if len(self.sleeps) >= self.polls:
            for statement in statements().values():
                if statement.status == "STARTED":
                    statement.status = "FINISHED"
                    statement.has_result_set = self.has_result_set


def test_statements_name_the_cluster_its_secret_and_the_bound_values(client):
    redshift = Redshift(polls=3)
    warehouse = RedshiftWarehouse(CLUSTER, client=client, sleep=redshift.sleep)
    warehouse.execute(
        "insert into raw_data.load_batches (source_table, batch_id, is_full_refresh, loaded_at)"
        " values (%(t)s, %(b)s, %(f)s, %(at)s)",
        {"t": "apartments", "b": None, "f": False, "at": "2024-03-02 01:00:00"},
    )
    assert redshift.sleeps == [0.05, 0.1, 0.2]
    (statement_id,) = statements()
    described = client.describe_statement(Id=statement_id)
    assert described["Status"] == "FINISHED"
    assert described["ClusterIdentifier"] == "rental-analytics"
    assert described["SecretArn"] == SECRET
    assert described["Database"] == "analytics"
    assert described["QueryString"] == (
        "insert into raw_data.load_batches (source_table, batch_id, is_full_refresh, loaded_at)"
        " values (:t, null, :f, :at)"
    )
    assert described["QueryParameters"] == [
        {"name": "t", "value": "apartments"},
        {"name": "f", "value": "false"},
        {"name": "at", "value": "2024-03-02 01:00:00"},
    ]


def test_query_reads_the_result_once_the_statement_finished(client):
    redshift = Redshift(polls=1, has_result_set=True)
    warehouse = RedshiftWarehouse(CLUSTER, client=client, sleep=redshift.sleep)
    columns, rows = warehouse.query("select number, street, city from addresses")
    # moto's fixed result (it runs no SQL): longValue and stringValue fields.
    assert columns == ["Number", "Street", "City"]
    assert rows == [
        (10, "Alpha st", "Vancouver"),
        (50, "Beta st", "Toronto"),
        (100, "Gamma av", "Seattle"),
    ]


def test_a_statement_that_never_finishes_is_cancelled_at_its_timeout(client):
    redshift = Redshift(polls=10**6)  # never finishes
    times = iter([0.0, 1.0, 2.5, 4.5])  # the deadline, then one reading per poll
    warehouse = RedshiftWarehouse(
        CLUSTER,
        client=client,
        statement_timeout_seconds=4,
        sleep=redshift.sleep,
        clock=lambda: next(times),
    )
    with pytest.raises(WarehouseError, match="timed out after 4 s and was cancelled: select 1"):
        warehouse.execute("select 1")
    assert redshift.sleeps == [0.05, 0.1]
    (statement_id,) = statements()
    assert client.describe_statement(Id=statement_id)["Status"] == "ABORTED"


def test_connect_picks_redshift_when_settings_name_it(client):
    settings = Settings(
        home=None,
        lake_root="s3://lake-bucket/lake",
        landing_root="s3://landing-bucket/landing",
        bookmarks_root="s3://lake-bucket/state",
        runs_root="",
        source=DatabaseSettings("aurora", 3306, "rentals", "not-used", "rental_db"),
        redshift=CLUSTER,
    )
    warehouse = connect(settings)
    assert isinstance(warehouse, RedshiftWarehouse)
    redshift = Redshift(polls=1)
    warehouse._sleep = redshift.sleep
    warehouse.execute("select 1")
    (statement_id,) = statements()
    assert client.describe_statement(Id=statement_id)["ClusterIdentifier"] == "rental-analytics"


@pytest.fixture
def moto_server(monkeypatch):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def test_data_api_warehouse_talks_to_the_given_endpoint(moto_server):
    """`rentals deploy` against a local emulator: the same warehouse, another endpoint."""
    redshift = Redshift(polls=1)
    warehouse = data_api_warehouse(CLUSTER, endpoint_url=moto_server, sleep=redshift.sleep)
    warehouse.execute("create schema if not exists raw_data")
    client = boto3.client("redshift-data", region_name=REGION, endpoint_url=moto_server)
    (statement_id,) = statements()
    described = client.describe_statement(Id=statement_id)
    assert described["QueryString"] == "create schema if not exists raw_data"
    assert described["Status"] == "FINISHED"
