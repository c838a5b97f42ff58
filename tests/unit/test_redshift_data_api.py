"""The Redshift warehouse against the Data API, with botocore's Stubber: moto's redshift-data
returns no SessionId, never finishes a statement and has no Error text, so the session and
transaction behaviour is checked call by call here (S3 is moto, in-process).

Every ExecuteStatement the warehouse sends is recorded (its parameters, as boto3 validated
them against the service model) and every Sql is parsed as Redshift SQL."""

import io
import json
from datetime import date, datetime
from types import SimpleNamespace

import boto3
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from botocore.stub import Stubber
from moto import mock_aws
from sqlfluff.core import FluffConfig, Linter

from rental_analytics.columns import LOAD_COLUMNS, STALE_GUARD_COLUMN
from rental_analytics.config import ConfigError, RedshiftSettings
from rental_analytics.quality.rejects import REJECT_COLUMNS
from rental_analytics.sources.tables import APARTMENTS, VEHICLES
from rental_analytics.warehouse.base import WarehouseError
from rental_analytics.warehouse.loading import empty_stg_tables, load_batch
from rental_analytics.warehouse.redshift import RedshiftWarehouse

REGION = "eu-west-1"
ROLE = "arn:aws:iam::123456789012:role/rental-analytics-redshift-copy"
BUCKET = "rental-analytics-lake-123456789012-eu-west-1"
SESSION = "5e55a0e1-0000-4000-8000-000000000001"
SESSION_2 = "5e55a0e1-0000-4000-8000-000000000002"
KEEP_ALIVE = 300
SERVERLESS = RedshiftSettings(database="dev", copy_role_arn=ROLE, workgroup="rental-analytics")


class ScriptedDataApi:
    """The Data API's answers, in the order the warehouse must ask for them."""

    def __init__(self):
        self.client = boto3.client(
            "redshift-data",
            region_name=REGION,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        self.stubber = Stubber(self.client)
        self.sent: list[dict] = []
        self.client.meta.events.register(
            "provide-client-params.redshift-data.ExecuteStatement",
            lambda params, **_: self.sent.append(dict(params)),
        )
        self._count = 0

    def _id(self) -> str:
        self._count += 1
        return f"{self._count:08d}-aaaa-4bbb-8ccc-dddddddddddd"

    def ok(
        self,
        *,
        session=SESSION,
        waits=(),
        finishes=True,
        result_rows=None,
        records=None,
        meta=None,
        next_token=None,
    ):
        """A statement that finishes, after DescribeStatement reported ``waits``."""
        statement_id = self._id()
        self.stubber.add_response("execute_statement", {"Id": statement_id, "SessionId": session})
        for status in waits:
            self.stubber.add_response(
                "describe_statement", {"Id": statement_id, "Status": status}, {"Id": statement_id}
            )
        if not finishes:
            return statement_id
        described = {"Id": statement_id, "Status": "FINISHED", "HasResultSet": records is not None}
        if result_rows is not None:
            described["ResultRows"] = result_rows
        self.stubber.add_response("describe_statement", described, {"Id": statement_id})
        if records is not None:
            page = {"Records": records, "ColumnMetadata": meta or [], "TotalNumRows": len(records)}
            if next_token:
                page["NextToken"] = next_token
            self.stubber.add_response("get_statement_result", page, {"Id": statement_id})
        return statement_id

    def count(self, rows: int):
        """``select pg_last_copy_count()`` answering ``rows``."""
        meta = [{"name": "pg_last_copy_count", "label": "pg_last_copy_count", "typeName": "int8"}]
        return self.ok(records=[[{"longValue": rows}]], meta=meta)

    def fails(self, error: str, status="FAILED"):
        statement_id = self._id()
        self.stubber.add_response("execute_statement", {"Id": statement_id, "SessionId": SESSION})
        self.stubber.add_response(
            "describe_statement",
            {"Id": statement_id, "Status": status, "Error": error},
            {"Id": statement_id},
        )

    def refuses(self, code="ValidationException", message="Session is not available", status=400):
        self.stubber.add_client_error(
            "execute_statement",
            service_error_code=code,
            service_message=message,
            http_status_code=status,
        )

    def sql(self) -> list[str]:
        return [call["Sql"] for call in self.sent]


@pytest.fixture
def api():
    api = ScriptedDataApi()
    with api.stubber:
        yield api
        api.stubber.assert_no_pending_responses()


@pytest.fixture
def sleeps():
    return []


@pytest.fixture
def warehouse(api, sleeps):
    return RedshiftWarehouse(SERVERLESS, client=api.client, sleep=sleeps.append, clock=lambda: 0.0)


@pytest.fixture(scope="module")
def parse_redshift():
    def parse(call: dict) -> None:
        values = {p["name"]: "'value'" for p in call.get("Parameters", [])}
        config = FluffConfig(
            overrides={"dialect": "redshift", "templater": "placeholder"},
            configs={"templater": {"placeholder": {"param_style": "colon", **values}}},
        )
        parsed = Linter(config=config).parse_string(call["Sql"])
        problems = [v.desc() for v in parsed.violations]
        assert not problems and "unparsable" not in parsed.tree.stringify(), (call, problems)

    return parse


def opens_session(call: dict) -> bool:
    return "SessionId" not in call and call["WorkgroupName"] == "rental-analytics"


# ------------------------------------------------------------------------------- sessions


def test_first_statement_opens_a_session_and_later_ones_name_only_it(api, warehouse):
    api.ok(result_rows=3)
    api.ok(result_rows=0)
    assert warehouse.execute("delete from raw_data.rejects where 1 = 0") == 3
    assert warehouse.execute("delete from raw_data.rejects where 1 = 1") == 0
    first, second = api.sent
    assert {k: v for k, v in first.items() if k != "ClientToken"} == {
        "Sql": "delete from raw_data.rejects where 1 = 0",
        "Database": "dev",
        "WorkgroupName": "rental-analytics",
        "SessionKeepAliveSeconds": KEEP_ALIVE,
    }
    assert {k: v for k, v in second.items() if k != "ClientToken"} == {
        "Sql": "delete from raw_data.rejects where 1 = 1",
        "SessionId": SESSION,
    }
    assert first["ClientToken"] != second["ClientToken"]  # retries of one call stay one call


def test_another_warehouse_opens_a_session_of_its_own(api, warehouse):
    """Warehouse.another (the quality gate's second connection): the same workgroup and
    database, its own session; the first warehouse's session goes on as it was."""
    api.ok(result_rows=0)
    api.ok(session=SESSION_2, result_rows=0)
    api.ok(result_rows=0)
    api.ok(session=SESSION_2, result_rows=0)
    second = warehouse.another()
    for wh in (warehouse, second, warehouse, second):
        wh.execute("delete from raw_data.rejects where 1 = 0")
    first, other, again, other_again = api.sent
    assert opens_session(first) and opens_session(other)
    assert other["SessionKeepAliveSeconds"] == KEEP_ALIVE
    assert again["SessionId"] == SESSION and other_again["SessionId"] == SESSION_2


def test_a_provisioned_cluster_is_named_with_its_secret():
    api = ScriptedDataApi()
    settings = RedshiftSettings(
        database="analytics",
        copy_role_arn=ROLE,
        cluster_id="rental-analytics",
        secret_arn="arn:aws:secretsmanager:eu-west-1:123456789012:secret:redshift-user-AbCdEf",
    )
    with api.stubber:
        api.ok()
        RedshiftWarehouse(settings, client=api.client).execute("select 1")
    assert api.sent[0]["ClusterIdentifier"] == "rental-analytics"
    assert api.sent[0]["SecretArn"] == settings.secret_arn
    assert api.sent[0]["Database"] == "analytics"
    assert "WorkgroupName" not in api.sent[0]


def test_an_ended_session_is_replaced_outside_a_transaction(api, warehouse):
    api.ok()
    api.refuses()  # the session idled out between two statements
    api.ok(session=SESSION_2)
    api.ok(session=SESSION_2)
    warehouse.execute("select 1")
    warehouse.execute("select 2")
    warehouse.execute("select 3")
    assert api.sql() == ["select 1", "select 2", "select 2", "select 3"]
    assert api.sent[1]["SessionId"] == SESSION
    assert opens_session(api.sent[2])
    assert api.sent[3]["SessionId"] == SESSION_2


def test_a_server_error_is_not_repeated_on_a_new_session(api, warehouse):
    # A 5xx leaves unknown whether the statement ran: repeating it could run it twice.
    api.ok()
    api.refuses(code="InternalServerException", message="try again", status=500)
    warehouse.execute("select 1")
    with pytest.raises(WarehouseError, match="refused the statement: insert into t"):
        warehouse.execute("insert into t values (1)")
    assert api.sql() == ["select 1", "insert into t values (1)"]


def test_a_refused_statement_outside_a_session_is_an_error(api, warehouse):
    api.refuses(code="AccessDeniedException", message="not authorized")
    with pytest.raises(WarehouseError, match="refused the statement: select 1: .*not authorized"):
        warehouse.execute("select 1")


# --------------------------------------------------------------------------- transactions


def test_a_transaction_is_begin_statements_commit_on_one_session(api, warehouse):
    api.ok()  # begin
    api.ok(result_rows=2)
    api.ok(result_rows=1)
    api.ok()  # commit
    with warehouse.transaction():
        warehouse.execute("delete from t where a = %(a)s", {"a": 1})
        with warehouse.transaction():  # joins: Redshift has no savepoints
            warehouse.execute("delete from t where a = 2")
    assert api.sql() == [
        "begin",
        "delete from t where a = :a",
        "delete from t where a = 2",
        "commit",
    ]
    assert opens_session(api.sent[0])
    assert all(call["SessionId"] == SESSION for call in api.sent[1:])
    assert api.sent[1]["Parameters"] == [{"name": "a", "value": "1"}]


def test_a_failed_statement_rolls_the_transaction_back(api, warehouse):
    api.ok()  # begin
    api.ok(result_rows=4)
    api.fails('ERROR: relation "raw_data.stg_nowhere" does not exist')
    api.ok()  # rollback
    with pytest.raises(WarehouseError) as raised, warehouse.transaction():
        warehouse.execute("delete from raw_data.stg_apartments where 1 = 0")
        warehouse.execute("-- the header\ninsert into raw_data.stg_nowhere\nselect 1")
    assert str(raised.value) == (
        "Redshift statement FAILED: insert into raw_data.stg_nowhere: "
        'ERROR: relation "raw_data.stg_nowhere" does not exist'
    )
    assert api.sql()[-1] == "rollback"
    assert api.sent[-1]["SessionId"] == SESSION
    assert "commit" not in api.sql()


def test_an_exception_in_the_block_rolls_back_and_is_raised_unchanged(api, warehouse):
    api.ok()  # begin
    api.ok()  # rollback
    with pytest.raises(KeyError, match="boom"), warehouse.transaction():
        raise KeyError("boom")
    assert api.sql() == ["begin", "rollback"]


def test_inside_a_transaction_an_ended_session_is_not_replaced(api, warehouse):
    api.ok()  # begin
    api.refuses()
    api.refuses()  # the rollback cannot reach the session either
    refused = pytest.raises(WarehouseError, match="refused the statement: delete from t")
    with refused as raised, warehouse.transaction():
        warehouse.execute("delete from t")
    assert api.sql() == ["begin", "delete from t", "rollback"]
    assert all(call["SessionId"] == SESSION for call in api.sent[1:])
    notes = " ".join(raised.value.__notes__)
    assert "rollback failed too" in notes and "session is abandoned" in notes
    # The abandoned session is not used again.
    api.ok(session=SESSION_2)
    warehouse.execute("select 1")
    assert opens_session(api.sent[-1])


def test_begin_on_an_ended_session_opens_a_new_one(api, warehouse):
    api.ok()
    api.refuses()  # begin on the old session
    api.ok(session=SESSION_2)  # begin on a new session
    api.ok(session=SESSION_2)
    api.ok(session=SESSION_2)  # commit
    warehouse.execute("select 1")
    with warehouse.transaction():
        warehouse.execute("delete from t")
    assert api.sql() == ["select 1", "begin", "begin", "delete from t", "commit"]
    assert opens_session(api.sent[2])
    assert [c["SessionId"] for c in api.sent[3:]] == [SESSION_2, SESSION_2]


def test_a_failed_commit_is_rolled_back_and_raised(api, warehouse):
    api.ok()  # begin
    api.ok()
    api.fails("ERROR: 1023 Serializable isolation violation on table stg_apartments")
    api.ok()  # rollback
    failed = pytest.raises(WarehouseError, match="FAILED: commit: ERROR: 1023")
    with failed, warehouse.transaction():
        warehouse.execute("delete from t")
    assert api.sql() == ["begin", "delete from t", "commit", "rollback"]


def test_begin_without_a_session_id_is_refused():
    api = ScriptedDataApi()
    with api.stubber:
        api.stubber.add_response(
            "execute_statement", {"Id": "00000001-aaaa-4bbb-8ccc-dddddddddddd"}
        )
        api.stubber.add_response(
            "describe_statement",
            {"Id": "00000001-aaaa-4bbb-8ccc-dddddddddddd", "Status": "FINISHED"},
        )
        warehouse = RedshiftWarehouse(SERVERLESS, client=api.client)
        with pytest.raises(WarehouseError, match="no SessionId"), warehouse.transaction():
            pass


def test_a_botocore_without_sessions_is_refused():
    members = {"Sql": None, "Database": None}
    operation = SimpleNamespace(input_shape=SimpleNamespace(members=members))
    old_client = SimpleNamespace(
        meta=SimpleNamespace(service_model=SimpleNamespace(operation_model=lambda name: operation))
    )
    with pytest.raises(WarehouseError, match="no Redshift Data API sessions"):
        RedshiftWarehouse(SERVERLESS, client=old_client)


# ---------------------------------------------------------------------------- polling


def test_describe_statement_is_polled_at_growing_bounded_intervals(api, warehouse, sleeps):
    waits = (
        "SUBMITTED",
        "PICKED",
        "STARTED",
        "STARTED",
        "STARTED",
        "STARTED",
        "STARTED",
        "STARTED",
    )
    api.ok(waits=waits)
    warehouse.execute("select 1")
    assert sleeps == [0.05, 0.1, 0.2, 0.4, 0.8, 1.6, 2.0, 2.0]


def test_an_aborted_statement_names_the_statement(api, warehouse):
    api.fails("Query cancelled by user", status="ABORTED")
    with pytest.raises(
        WarehouseError, match="^Redshift statement ABORTED: select 1: Query cancelled"
    ):
        warehouse.execute("select 1")


def test_a_statement_past_its_timeout_is_cancelled(api, sleeps):
    statement_id = api.ok(waits=("STARTED", "STARTED"), finishes=False)
    api.stubber.add_response("cancel_statement", {"Status": True}, {"Id": statement_id})
    times = iter([0.0, 1.0, 9.0])
    warehouse = RedshiftWarehouse(
        SERVERLESS,
        client=api.client,
        statement_timeout_seconds=5,
        sleep=sleeps.append,
        clock=lambda: next(times),
    )
    with pytest.raises(WarehouseError, match="timed out after 5 s and was cancelled: select 1"):
        warehouse.execute("select 1")
    assert sleeps == [0.05]


# ----------------------------------------------------------------------------- results


def test_query_pages_through_results_and_decodes_types(api, warehouse):
    meta = [
        {"name": "listing_id", "label": "listing_id", "typeName": "int4"},
        {"name": "avg_price", "label": "avg_price", "typeName": "numeric"},
        {"name": "week_start", "label": "week_start", "typeName": "date"},
        {"name": "loaded_at", "label": "loaded_at", "typeName": "timestamp"},
        {"name": "is_active", "label": "is_active", "typeName": "bool"},
        {"name": "currency", "label": "currency", "typeName": "varchar"},
    ]
    first = [
        [
            {"longValue": 1},
            {"stringValue": "120.50"},
            {"stringValue": "2024-02-26"},
            {"stringValue": "2024-03-01 02:03:04"},
            {"booleanValue": True},
            {"stringValue": "EUR"},
        ]
    ]
    second = [
        [
            {"longValue": 2},
            {"isNull": True},
            {"stringValue": "2024-02-26"},
            {"isNull": True},
            {"booleanValue": False},
            {"stringValue": ""},
        ]
    ]
    statement_id = api.ok(records=first, meta=meta, next_token="page-2")
    api.stubber.add_response(
        "get_statement_result",
        {"Records": second, "TotalNumRows": 2},
        {"Id": statement_id, "NextToken": "page-2"},
    )
    columns, rows = warehouse.query(
        "select * from presentation.vw_x where currency = %(c)s", {"c": "EUR"}
    )
    assert columns == [
        "listing_id",
        "avg_price",
        "week_start",
        "loaded_at",
        "is_active",
        "currency",
    ]
    from decimal import Decimal

    assert rows == [
        (1, Decimal("120.50"), date(2024, 2, 26), datetime(2024, 3, 1, 2, 3, 4), True, "EUR"),
        (2, None, date(2024, 2, 26), None, False, ""),
    ]


def test_a_statement_without_a_result_set_has_no_rows(api, warehouse):
    api.ok(result_rows=0)
    assert warehouse.query("create temp table x (a int)") == ([], [])


def test_positional_parameters_are_refused_before_any_call(api, warehouse):
    with pytest.raises(WarehouseError, match="positional parameters are not supported"):
        warehouse.execute("select %s", (1,))
    assert api.sent == []


# -------------------------------------------------------------------------------- COPY


def parquet_bytes(columns) -> bytes:
    table = pa.table({c: pa.array(["v"], pa.string()) for c in columns})
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    return buffer.getvalue()


@pytest.fixture
def s3():
    with mock_aws():
        client = boto3.client("s3", region_name=REGION)
        client.create_bucket(
            Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION}
        )
        yield client


def spark_output(s3, prefix: str, columns, parts=2) -> list[int]:
    """What Spark leaves in a folder: part files, _SUCCESS; and a sibling folder."""
    sizes = []
    for i in range(parts):
        body = parquet_bytes(columns)
        s3.put_object(Bucket=BUCKET, Key=f"{prefix}/part-0000{i}-c000.snappy.parquet", Body=body)
        sizes.append(len(body))
    s3.put_object(Bucket=BUCKET, Key=f"{prefix}/_SUCCESS", Body=b"")
    s3.put_object(Bucket=BUCKET, Key=f"{prefix}/_temporary/0/x.parquet", Body=b"partial")
    s3.put_object(Bucket=BUCKET, Key=f"{prefix}_old/part-00000.parquet", Body=b"not this one")
    return sizes


PREFIX = "lake/staged/apartments/apartments/batch_id=2024-03-01-01"


def test_copy_parquet_loads_exactly_the_checked_files_through_a_manifest(api, s3, parse_redshift):
    sizes = spark_output(s3, f"{PREFIX}/rejects", REJECT_COLUMNS)
    warehouse = RedshiftWarehouse(SERVERLESS, client=api.client, s3_client=s3)
    api.ok()  # begin
    api.ok()  # copy
    api.count(7)
    api.ok()  # commit
    loaded = warehouse.copy_parquet(
        "stage_rejects", REJECT_COLUMNS, f"s3://{BUCKET}/{PREFIX}/rejects"
    )
    assert loaded == 7
    manifest = f"s3://{BUCKET}/{PREFIX}/rejects.manifest"
    assert api.sql()[1] == (
        f"copy \"stage_rejects\" from '{manifest}' iam_role '{ROLE}' format as parquet manifest"
    )
    assert api.sql()[2] == "select pg_last_copy_count()"
    assert all(call["SessionId"] == SESSION for call in api.sent[1:])
    document = json.loads(
        s3.get_object(Bucket=BUCKET, Key=f"{PREFIX}/rejects.manifest")["Body"].read()
    )
    assert document == {
        "entries": [
            {
                "url": f"s3://{BUCKET}/{PREFIX}/rejects/part-0000{i}-c000.snappy.parquet",
                "mandatory": True,
                "meta": {"content_length": size},
            }
            for i, size in enumerate(sizes)
        ]
    }
    for call in api.sent:
        parse_redshift(call)


def test_copy_parquet_refuses_files_whose_columns_are_out_of_order(api, s3):
    columns = list(REJECT_COLUMNS)
    swapped = [columns[1], columns[0], *columns[2:]]
    spark_output(s3, f"{PREFIX}/rejects", swapped, parts=1)
    warehouse = RedshiftWarehouse(SERVERLESS, client=api.client, s3_client=s3)
    with pytest.raises(WarehouseError, match="maps by position") as raised:
        warehouse.copy_parquet("stage_rejects", REJECT_COLUMNS, f"s3://{BUCKET}/{PREFIX}/rejects")
    assert "part-00000-c000.snappy.parquet has columns ['record_key', 'source_table'" in str(
        raised.value
    )
    assert api.sent == []  # nothing was loaded


def test_copy_parquet_of_an_empty_folder_loads_nothing(api, s3):
    warehouse = RedshiftWarehouse(SERVERLESS, client=api.client, s3_client=s3)
    assert warehouse.copy_parquet("stage_rejects", REJECT_COLUMNS, f"s3://{BUCKET}/{PREFIX}/x") == 0
    assert api.sent == []


def test_copy_parquet_refuses_a_data_file_that_is_not_parquet(api, s3):
    s3.put_object(Bucket=BUCKET, Key=f"{PREFIX}/rejects/part-00000.csv", Body=b"a,b\n")
    warehouse = RedshiftWarehouse(SERVERLESS, client=api.client, s3_client=s3)
    with pytest.raises(WarehouseError, match=r"part-00000.csv: not a \.parquet file"):
        warehouse.copy_parquet("stage_rejects", REJECT_COLUMNS, f"s3://{BUCKET}/{PREFIX}/rejects")


def test_copy_parquet_refuses_a_corrupt_parquet_file(api, s3):
    s3.put_object(Bucket=BUCKET, Key=f"{PREFIX}/rejects/part-00000.parquet", Body=b"PAR1 broken")
    warehouse = RedshiftWarehouse(SERVERLESS, client=api.client, s3_client=s3)
    with pytest.raises(WarehouseError, match="not a readable Parquet file"):
        warehouse.copy_parquet("stage_rejects", REJECT_COLUMNS, f"s3://{BUCKET}/{PREFIX}/rejects")


def test_copy_refused_for_an_unassociated_role_says_which_role_and_what_to_run(api, s3):
    spark_output(s3, f"{PREFIX}/rejects", REJECT_COLUMNS, parts=1)
    warehouse = RedshiftWarehouse(SERVERLESS, client=api.client, s3_client=s3)
    api.ok()  # begin
    api.fails(f"ERROR: Not authorized to get credentials of role {ROLE}")
    api.ok()  # rollback
    with pytest.raises(WarehouseError) as raised:
        warehouse.copy_parquet("stage_rejects", REJECT_COLUMNS, f"s3://{BUCKET}/{PREFIX}/rejects")
    message = str(raised.value)
    assert message.startswith(f"COPY into stage_rejects: Redshift may not use the COPY role {ROLE}")
    assert "Redshift Serverless workgroup rental-analytics" in message
    assert "rentals deploy" in message and "aws redshift-serverless update-namespace" in message
    assert "Redshift said:" in message and "Not authorized to get credentials" in message
    assert api.sql()[-1] == "rollback"


def test_other_copy_failures_keep_their_own_message(api, s3):
    spark_output(s3, f"{PREFIX}/rejects", REJECT_COLUMNS, parts=1)
    warehouse = RedshiftWarehouse(SERVERLESS, client=api.client, s3_client=s3)
    api.ok()  # begin
    api.fails("ERROR: Spectrum Scan Error")
    api.ok()  # rollback
    with pytest.raises(WarehouseError, match="Spectrum Scan Error") as raised:
        warehouse.copy_parquet("stage_rejects", REJECT_COLUMNS, f"s3://{BUCKET}/{PREFIX}/rejects")
    assert "COPY role" not in str(raised.value)


def test_copy_parquet_needs_a_copy_role(api, s3):
    settings = RedshiftSettings(database="dev", copy_role_arn="", workgroup="rental-analytics")
    warehouse = RedshiftWarehouse(settings, client=api.client, s3_client=s3)
    with pytest.raises(ConfigError, match="no COPY role ARN"):
        warehouse.copy_parquet("stage_rejects", REJECT_COLUMNS, f"s3://{BUCKET}/{PREFIX}/rejects")


def test_a_malformed_copy_role_is_refused_at_construction(api):
    settings = RedshiftSettings(database="dev", copy_role_arn="role/x", workgroup="wg-name")
    with pytest.raises(ConfigError, match="invalid COPY role ARN"):
        RedshiftWarehouse(settings, client=api.client)


# -------------------------------------------------------------------- load_batch end to end


def script_load(api, *, stale_rows=None, full_refresh=False, reconciles=True, into_empty=None):
    """The Data API's answers to load_batch. ``into_empty``: "direct" (COPY into the
    table) or "whole" (a guarded table's stage inserted whole)."""
    api.ok()  # begin
    api.ok()  # create temp table stage_rejects
    api.ok()  # copy rejects
    api.count(2)
    if into_empty != "direct":
        api.ok()  # create the stage
    api.ok()  # copy accepted
    api.count(5)
    if into_empty == "whole":
        api.ok(result_rows=5)  # insert the whole stage
        api.ok()  # drop the stage
    if into_empty is None:
        _script_merge(api, stale_rows, full_refresh)
    api.ok(result_rows=0)  # rejects: drop the staged ones already recorded
    api.ok(result_rows=2)  # rejects: insert the others
    api.ok()  # drop stage_rejects
    if not reconciles:
        api.ok()  # rollback
        return
    api.ok(result_rows=1)  # load_batches
    api.ok()  # commit


def _script_merge(api, stale_rows, full_refresh):
    if stale_rows is not None:
        api.ok(result_rows=stale_rows)  # reject_stale
    if full_refresh:
        api.ok(result_rows=0)  # delete_missing
    if stale_rows is not None:
        api.ok(result_rows=stale_rows)  # delete_stale
    api.ok(result_rows=1)  # delete_changed
    api.ok(result_rows=3)  # insert_new
    api.ok()  # drop the stage


def load_staged(api, s3, spec, prefix, *, rows_extracted=7, full_refresh=False, **kw):
    """load_batch of the batch staged under ``prefix`` (accepted and rejects), run date
    2024-03-01, through a RedshiftWarehouse on the scripted Data API."""
    return load_batch(
        RedshiftWarehouse(SERVERLESS, client=api.client, s3_client=s3),
        spec,
        batch_id="2024-03-01-01",
        run_date=date(2024, 3, 1),
        loaded_at=datetime(2024, 3, 2, 1, 0, 0),
        full_refresh=full_refresh,
        accepted_path=f"s3://{BUCKET}/{prefix}/accepted",
        rejects_path=f"s3://{BUCKET}/{prefix}/rejects",
        rows_extracted=rows_extracted,
        **kw,
    )


@pytest.mark.parametrize(
    ("spec", "stale_rows", "full_refresh"), [(APARTMENTS, None, False), (VEHICLES, 1, True)]
)
def test_load_batch_runs_in_one_session_transaction(
    api, s3, parse_redshift, spec, stale_rows, full_refresh
):
    accepted_columns = [*spec.column_names, *LOAD_COLUMNS]
    if stale_rows is not None:
        accepted_columns.append(STALE_GUARD_COLUMN)
    prefix = f"lake/staged/{spec.domain}/{spec.name}/batch_id=2024-03-01-01"
    spark_output(s3, f"{prefix}/accepted", accepted_columns, parts=1)
    spark_output(s3, f"{prefix}/rejects", REJECT_COLUMNS, parts=1)
    script_load(api, stale_rows=stale_rows, full_refresh=full_refresh)

    result = load_staged(api, s3, spec, prefix, full_refresh=full_refresh)

    stale = stale_rows or 0
    assert (result.rows_loaded, result.rows_rejected) == (5 - stale, 2 + stale)
    assert (result.rows_inserted, result.rows_updated) == (2, 1)
    sql = api.sql()
    assert sql[0] == "begin" and sql[-1] == "commit"
    assert sql.count("begin") == 1 and sql.count("commit") == 1  # COPY joined the transaction
    assert opens_session(api.sent[0])
    assert all(call["SessionId"] == SESSION for call in api.sent[1:])
    ledger = api.sent[-2]
    assert ledger["Sql"].startswith("insert into raw_data.load_batches")
    assert ":t, :b, :d, :f, :e, :l, :r, :i, :u, :x, :at)" in ledger["Sql"]
    values = {p["name"]: p["value"] for p in ledger["Parameters"]}
    assert values == {
        "t": spec.name,
        "b": "2024-03-01-01",
        "d": "2024-03-01",
        "f": "true" if full_refresh else "false",
        "e": "7",
        "l": str(5 - stale),
        "r": str(2 + stale),
        "i": "2",
        "u": "1",
        "x": "0",
        "at": "2024-03-02 01:00:00",
    }
    for call in api.sent:
        parse_redshift(call)


def test_a_first_batch_is_copied_straight_into_its_empty_stg_table(api, s3, parse_redshift):
    prefix = "lake/staged/apartments/apartments/batch_id=2024-03-01-01"
    spark_output(s3, f"{prefix}/accepted", [*APARTMENTS.column_names, *LOAD_COLUMNS], parts=1)
    spark_output(s3, f"{prefix}/rejects", REJECT_COLUMNS, parts=1)
    script_load(api, into_empty="direct")

    result = load_staged(api, s3, APARTMENTS, prefix, into_empty=True)

    assert (result.rows_loaded, result.rows_rejected) == (5, 2)
    assert (result.rows_inserted, result.rows_updated, result.rows_deleted) == (5, 0, 0)
    sql = api.sql()
    assert sql[0] == "begin" and sql[-1] == "commit"
    copies = [s for s in sql if s.startswith("copy ")]
    assert [c.split()[1] for c in copies] == ['"stage_rejects"', '"raw_data"."stg_apartments"']
    assert not any(
        s.startswith(("create temp table stage_apartments", "insert into raw_data.stg"))
        for s in sql
    )
    for call in api.sent:
        parse_redshift(call)


def test_a_guarded_first_batch_goes_in_whole_from_its_stage(api, s3, parse_redshift):
    # The stale-version guard's column keeps the stage; into an empty table all of it is
    # inserted, with no stale version or present key to look for.
    prefix = "lake/staged/vehicle_rentals/vehicles/batch_id=2024-03-01-01"
    accepted = [*VEHICLES.column_names, *LOAD_COLUMNS, STALE_GUARD_COLUMN]
    spark_output(s3, f"{prefix}/accepted", accepted, parts=1)
    spark_output(s3, f"{prefix}/rejects", REJECT_COLUMNS, parts=1)
    script_load(api, into_empty="whole")

    result = load_staged(api, s3, VEHICLES, prefix, into_empty=True)

    assert (result.rows_inserted, result.rows_updated, result.rows_rejected) == (5, 0, 2)
    inserts = [s for s in api.sql() if s.startswith('insert into raw_data."stg_vehicles"')]
    assert len(inserts) == 1 and "not exists" not in inserts[0]
    for call in api.sent:
        parse_redshift(call)


def test_the_empty_stg_tables_are_found_in_one_statement(api, warehouse, parse_redshift):
    meta = [
        {"name": "name", "label": "name", "typeName": "varchar"},
        {"name": "found", "label": "found", "typeName": "int8"},
    ]
    answer = [
        [{"stringValue": "apartments"}, {"longValue": 1}],
        [{"stringValue": "vehicles"}, {"longValue": 0}],
    ]
    api.ok(records=answer, meta=meta)

    assert empty_stg_tables(warehouse, [APARTMENTS, VEHICLES]) == {"vehicles"}
    assert empty_stg_tables(warehouse, []) == set()  # nothing pending: no statement
    (call,) = api.sent
    assert 'from raw_data."stg_vehicles" limit 1' in call["Sql"]
    parse_redshift(call)


def test_load_batch_failing_reconciliation_rolls_back(api, s3):
    prefix = "lake/staged/apartments/apartments/batch_id=2024-03-01-01"
    spark_output(s3, f"{prefix}/accepted", [*APARTMENTS.column_names, *LOAD_COLUMNS], parts=1)
    spark_output(s3, f"{prefix}/rejects", REJECT_COLUMNS, parts=1)
    # 8 extracted, 5 loaded + 2 rejected: the ledger insert and the commit give way to a
    # rollback.
    script_load(api, reconciles=False)
    with pytest.raises(WarehouseError, match="reconciliation failed"):
        load_staged(api, s3, APARTMENTS, prefix, rows_extracted=8)
    assert api.sql()[-1] == "rollback"
    assert "commit" not in api.sql()
    assert not any(s.startswith("insert into raw_data.load_batches") for s in api.sql())
