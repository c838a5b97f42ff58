"""The SQL the Redshift warehouse generates: parameter conversion for the Data API, the COPY
statement, validation of what goes into it, result decoding, and that every statement parses
as Redshift SQL (sqlfluff, dialect redshift)."""

import json
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal

import pytest
from sqlfluff.core import FluffConfig, Linter

from rental_analytics.columns import guards_stale_versions
from rental_analytics.config import ConfigError
from rental_analytics.quality.rejects import RECORD_STAGED, REJECT_COLUMNS
from rental_analytics.sources.tables import APARTMENTS, BOOKINGS, RENTAL_TRANSACTIONS, VEHICLES
from rental_analytics.warehouse.base import WarehouseError
from rental_analytics.warehouse.loading import stg_statements
from rental_analytics.warehouse.redshift import (
    DataApiStatement,
    ParquetPart,
    copy_statement,
    decode_field,
    first_line,
    manifest_document,
    manifest_url,
    qualified_table,
    render_value,
    s3_folder,
    to_data_api,
    validate_role_arn,
)

ROLE = "arn:aws:iam::123456789012:role/rental-analytics-redshift-copy"
MANIFEST = "s3://rental-analytics-lake-123456789012-eu-west-1/lake/staged/apartments/apartments/batch_id=2024-03-01-01/accepted.manifest"


def redshift_config(parameter_names=()) -> FluffConfig:
    """sqlfluff, dialect redshift; each Data API ``:name`` stands for a string value."""
    values = {name: "'value'" for name in parameter_names}
    return FluffConfig(
        overrides={"dialect": "redshift", "templater": "placeholder"},
        configs={"templater": {"placeholder": {"param_style": "colon", **values}}},
    )


@pytest.fixture(scope="module")
def redshift_parser():
    """Parses one statement (text, or a DataApiStatement) as Redshift SQL."""
    plain = Linter(config=redshift_config())

    def parse(statement: str | DataApiStatement) -> None:
        if isinstance(statement, DataApiStatement):
            names = [p["name"] for p in statement.parameters]
            linter, sql = Linter(config=redshift_config(names)), statement.sql
        else:
            linter, sql = plain, statement
        parsed = linter.parse_string(sql)
        problems = [v.desc() for v in parsed.violations]
        assert parsed.tree is not None and not problems, f"{sql}\n{problems}"
        assert "unparsable" not in parsed.tree.stringify(), sql

    return parse


# ------------------------------------------------------------------------------ parameters


def test_named_placeholders_become_data_api_parameters():
    statement = to_data_api(
        "select 1 from raw_data.load_batches where source_table = %(t)s and batch_id = %(b)s",
        {"t": "apartments", "b": "2024-03-01-01"},
    )
    assert statement.sql == (
        "select 1 from raw_data.load_batches where source_table = :t and batch_id = :b"
    )
    assert statement.parameters == (
        {"name": "t", "value": "apartments"},
        {"name": "b", "value": "2024-03-01-01"},
    )


def test_a_placeholder_used_twice_is_one_parameter_and_unused_values_are_not_sent():
    statement = to_data_api(
        "select %(rule)s, md5(x || %(rule)s)", {"rule": "IsComplete", "extra": 1}
    )
    assert statement.sql == "select :rule, md5(x || :rule)"
    assert statement.parameters == ({"name": "rule", "value": "IsComplete"},)


def test_null_and_empty_string_are_written_as_constants_not_bound():
    # The Data API has no NULL parameter and refuses an empty value (minimum length 1).
    statement = to_data_api(
        "insert into t (a, b, c) values (%(a)s, cast(%(b)s as varchar(8)), %(c)s)",
        {"a": None, "b": "", "c": "x"},
    )
    assert statement.sql == "insert into t (a, b, c) values (null, cast('' as varchar(8)), :c)"
    assert statement.parameters == ({"name": "c", "value": "x"},)


def test_a_value_that_looks_like_sql_stays_a_bound_value():
    statement = to_data_api("select %(v)s", {"v": "'); drop table t; --"})
    assert statement.sql == "select :v"
    assert statement.parameters == ({"name": "v", "value": "'); drop table t; --"},)


def test_double_percent_is_a_percent_sign_only_when_parameters_are_given():
    assert to_data_api("select 'a%%' like %(p)s", {"p": "a%"}).sql == "select 'a%' like :p"
    # Without parameters the text is sent as written, as psycopg does.
    assert to_data_api("select 'a%%b%'", None).sql == "select 'a%%b%'"


@pytest.mark.parametrize(
    ("sql", "params", "message"),
    [
        ("select %s", {"a": 1}, "unsupported placeholder '%s'"),
        ("select %(a)s, %d", {"a": 1}, "unsupported placeholder '%d'"),
        ("select %(a)d", {"a": 1}, "unsupported placeholder '%(a)d'"),
        ("select %(A)s", {"A": 1}, "unsupported placeholder '%(A)s'"),
        ("select %(a-b)s", {"a-b": 1}, "unsupported placeholder"),
        ("select 50%", {"a": 1}, "unsupported placeholder '%'"),
        ("select %(missing)s", {"a": 1}, "no value for placeholder %(missing)s"),
        ("select %s", (1,), "positional parameters are not supported"),
        ("select %s", [1], "positional parameters are not supported"),
    ],
)
def test_positional_unknown_and_malformed_placeholders_are_refused(sql, params, message):
    with pytest.raises(WarehouseError, match="^" + _escape(message)) as raised:
        to_data_api(sql, params)
    if "positional" not in message:
        assert "(select" in str(raised.value)  # names the statement


def _escape(text: str) -> str:
    import re

    return re.escape(text)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (True, "true"),
        (False, "false"),
        (42, "42"),
        (-7, "-7"),
        (Decimal("12.50"), "12.50"),
        (Decimal("1E+3"), "1000"),
        (0.25, "0.25"),
        ("it's", "it's"),
        (date(2024, 3, 1), "2024-03-01"),
        (datetime(2024, 3, 1, 2, 3, 4), "2024-03-01 02:03:04"),
        (datetime(2024, 3, 1, 2, 3, 4, 500), "2024-03-01 02:03:04.000500"),
        (datetime(2024, 3, 1, 2, 3, 4, tzinfo=timezone(timedelta(hours=2))), "2024-03-01 00:03:04"),
        (datetime(2024, 3, 1, 2, 3, 4, tzinfo=UTC), "2024-03-01 02:03:04"),
        (time(13, 5), "13:05:00"),
        (None, None),
    ],
)
def test_values_are_rendered_as_redshift_literal_text(value, text):
    assert render_value(value) == text


@pytest.mark.parametrize("value", [float("nan"), Decimal("Infinity"), b"bytes", [1], object()])
def test_values_without_a_redshift_text_form_are_refused(value):
    with pytest.raises(WarehouseError, match="^parameter v: "):
        render_value(value, "v")


def test_first_line_skips_comment_headers_and_shortens():
    sql = "-- curated.dim_listings: one row per listing\nmerge into curated.dim_listings\nusing x"
    assert first_line(sql) == "merge into curated.dim_listings"
    assert first_line("select " + "x" * 300).endswith("...")
    assert len(first_line("select " + "x" * 300)) == 120


# ------------------------------------------------------------------------------------ COPY


def test_copy_statement_text():
    # No column list: COPY from Parquet takes none (copy-usage_notes-copy-from-columnar).
    sql = copy_statement("stage_rejects", REJECT_COLUMNS, MANIFEST, ROLE)
    assert sql == (
        f"copy \"stage_rejects\" from '{MANIFEST}' iam_role '{ROLE}' format as parquet manifest"
    )


def test_copy_statement_quotes_a_schema_qualified_table():
    sql = copy_statement("raw_data.stg_apartments", ("id", "title"), MANIFEST, ROLE)
    assert sql.startswith('copy "raw_data"."stg_apartments" from ')


@pytest.mark.parametrize(
    ("table", "columns"),
    [
        ('stage"; drop table x; --', ("id",)),
        ("Stage", ("id",)),
        ("a.b.c", ("id",)),
        ("stage", ("id", "Title")),
        ("stage", ("id", "x y")),
        ("stage", ()),
        ("stage", ("id", "id")),
    ],
)
def test_copy_statement_refuses_bad_identifiers(table, columns):
    with pytest.raises(ConfigError):
        copy_statement(table, columns, MANIFEST, ROLE)


def test_folders_end_with_a_slash_so_a_sibling_prefix_is_not_included():
    assert s3_folder("s3://lake-bucket/lake/staged/t/batch_id=1/accepted") == (
        "lake-bucket",
        "lake/staged/t/batch_id=1/accepted/",
    )
    assert s3_folder("s3://lake-bucket/lake/accepted/")[1] == "lake/accepted/"
    assert (
        manifest_url("lake-bucket", "lake/accepted/") == "s3://lake-bucket/lake/accepted.manifest"
    )


@pytest.mark.parametrize(
    "url",
    [
        "/home/lake/staged/accepted",
        "s3a://lake-bucket/lake/accepted",
        "s3://Lake-Bucket/lake/accepted",
        "s3://lake-bucket/lake/it's",
        "s3://lake-bucket/lake/a b",
        "s3://lake-bucket/lake\\x",
        "s3://lake-bucket/",
        "s3://lake-bucket//lake",
        "s3://lake..bucket/lake",
        "s3://lake-bucket",
        "",
    ],
)
def test_s3_folders_outside_the_safe_form_are_refused(url):
    with pytest.raises(ConfigError, match="invalid S3"):
        s3_folder(url)


@pytest.mark.parametrize(
    "arn",
    [
        ROLE,
        "arn:aws:iam::123456789012:role/service-role/copy.role@x",
        "arn:aws-cn:iam::123456789012:role/copy",
        "arn:aws-us-gov:iam::123456789012:role/copy",
    ],
)
def test_role_arns_are_accepted(arn):
    assert validate_role_arn(arn) == arn


@pytest.mark.parametrize(
    "arn",
    [
        "",
        "arn:aws:iam::12345678901:role/copy",
        "arn:aws:iam::123456789012:user/copy",
        "arn:aws:s3:::bucket",
        "arn:aws:iam::123456789012:role/copy' ; drop table x; --",
        "arn:aws:iam::123456789012:role/",
    ],
)
def test_role_arns_are_refused(arn):
    with pytest.raises(ConfigError, match="invalid COPY role ARN"):
        validate_role_arn(arn)


def test_qualified_table():
    assert qualified_table("stage_x") == '"stage_x"'
    assert qualified_table("raw_data.rejects") == '"raw_data"."rejects"'


def test_manifest_lists_each_file_with_its_content_length():
    parts = [
        ParquetPart("s3://b/p/part-0.parquet", 120, ("a",)),
        ParquetPart("s3://b/p/part-1.parquet", 80, ("a",)),
    ]
    assert json.loads(manifest_document(parts)) == {
        "entries": [
            {"url": "s3://b/p/part-0.parquet", "mandatory": True, "meta": {"content_length": 120}},
            {"url": "s3://b/p/part-1.parquet", "mandatory": True, "meta": {"content_length": 80}},
        ]
    }


# --------------------------------------------------------------------------------- results


@pytest.mark.parametrize(
    ("field", "type_name", "value"),
    [
        ({"isNull": True}, "int4", None),
        ({"longValue": 7}, "int8", 7),
        ({"longValue": 7}, "numeric", Decimal(7)),
        ({"stringValue": "12.50"}, "numeric", Decimal("12.50")),
        ({"doubleValue": 0.5}, "float8", 0.5),
        ({"booleanValue": False}, "bool", False),
        ({"stringValue": "2024-03-01"}, "date", date(2024, 3, 1)),
        (
            {"stringValue": "2024-03-01 02:03:04.5"},
            "timestamp",
            datetime(2024, 3, 1, 2, 3, 4, 500000),
        ),
        (
            {"stringValue": "2024-03-01 02:03:04+00"},
            "timestamptz",
            datetime(2024, 3, 1, 2, 3, 4, tzinfo=UTC),
        ),
        ({"stringValue": "13:05:00"}, "time", time(13, 5)),
        ({"stringValue": "abc "}, "bpchar", "abc "),
        ({"stringValue": "x"}, None, "x"),
    ],
)
def test_fields_decode_by_kind_and_type_name(field, type_name, value):
    assert decode_field(field, type_name) == value


# ------------------------------------------------------------------------ sqlfluff (Redshift)


def test_generated_statements_parse_as_redshift_sql(redshift_parser):
    statements = [
        copy_statement("stage_rejects", REJECT_COLUMNS, MANIFEST, ROLE),
        copy_statement("raw_data.stg_apartments", ("id", "title"), MANIFEST, ROLE),
        "select pg_last_copy_count()",
        "begin",
        "commit",
        "rollback",
        to_data_api(
            "select 1 from information_schema.tables"
            " where table_schema = %(schema)s and table_name = %(table)s",
            {"schema": "raw_data", "table": "rejects"},
        ),
        to_data_api(
            "insert into t (a, b, c) values (%(a)s, cast(%(b)s as varchar(8)), %(c)s)",
            {"a": None, "b": "", "c": date(2024, 3, 1)},
        ),
    ]
    for sql in statements:
        redshift_parser(sql)


def test_the_parser_would_catch_broken_sql(redshift_parser):
    # The check above can fail: psycopg placeholders and a truncated COPY do not parse.
    with pytest.raises(AssertionError):
        redshift_parser("select %(a)s")
    with pytest.raises(AssertionError):
        redshift_parser(copy_statement("stage", ("id",), MANIFEST, ROLE) + " region 'x' (")


@pytest.mark.parametrize("spec", [APARTMENTS, BOOKINGS, VEHICLES, RENTAL_TRANSACTIONS])
def test_load_batch_statements_parse_as_redshift_sql(spec, redshift_parser):
    sql = stg_statements(spec)
    statements = [
        "create temp table stage_rejects (like raw_data.rejects)",
        sql.create_stage,
        sql.delete_missing,
        sql.delete_changed,
        sql.insert_new,
        sql.drop_stage,
        *RECORD_STAGED,
        "drop table stage_rejects",
    ]
    if sql.reject_stale:
        params = {
            "table": spec.name,
            "rule": "IsPrimaryKey",
            "reason": "superseded (",
            "batch_id": "2024-03-01-01",
            "rejected_at": datetime(2024, 3, 1, 2, 3, 4),
        }
        statements += [to_data_api(sql.reject_stale, params), sql.delete_stale]
    assert bool(sql.reject_stale) == guards_stale_versions(spec)
    for statement in statements:
        redshift_parser(statement)
