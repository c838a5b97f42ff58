"""Who may do what in the warehouse (SPEC 8), on the real PostgreSQL of the test stack:
rentals_job reads and writes rows but owns nothing and can create, alter or drop nothing;
rentals_analyst reads every presentation view and nothing else; no curated or presentation
column holds a person's name, e-mail, phone or licence number."""

from __future__ import annotations

import re

import psycopg
import pytest

from rental_analytics.config import Settings
from rental_analytics.warehouse import connect
from rental_analytics.warehouse.migrations import view_files

REFUSED = (psycopg.errors.InsufficientPrivilege, psycopg.errors.InvalidSchemaName)
# A person's identifiers. A vehicle's base_telephone_number (a company's line) is not one.
PERSONAL = re.compile(
    r"^(first_name|last_name|full_name|e_?mail.*|phone.*|.*_phone.*|driver_licen[cs]e_number)$",
    re.I,
)


@pytest.fixture
def as_identity(stack_home):
    opened = []

    def open_as(identity: str):
        wh = connect(Settings.local(stack_home, identity))
        opened.append(wh)
        return wh

    yield open_as
    for wh in opened:
        wh.close()


@pytest.mark.parametrize(
    "statement",
    [
        "create schema job_schema",
        "create table raw_data.job_table (x int)",
        "create table curated.job_table (x int)",
        "create table presentation.job_table (x int)",
        "create table public.job_table (x int)",
        "create view curated.job_view as select 1 as x",
        "alter table raw_data.stg_rental_users add column x int",
        "alter table curated.dim_customers rename to dim_people",
        "drop table curated.fact_rentals",
        "drop view presentation.vw_rental_business_summary",
        "drop schema curated cascade",
        "truncate raw_data.load_batches",
        "create role job_friend",
    ],
)
def test_the_job_can_create_alter_or_drop_nothing(as_identity, statement):
    wh = as_identity("job")
    with pytest.raises(REFUSED):
        wh.execute(statement)


def test_the_job_owns_nothing_but_writes_rows_and_its_temp_tables(as_identity, warehouse):
    job = as_identity("job")
    _, owned = job.query(
        "select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace"
        " where c.relowner = (select oid from pg_roles where rolname = current_user)"
        " and n.nspname not like 'pg_temp%%' and n.nspname not like 'pg_toast%%'"
        " union all select nspname from pg_namespace"
        " where nspowner = (select oid from pg_roles where rolname = current_user)"
    )
    assert owned == []
    with job.transaction():
        job.execute("create temp table stage_x (like raw_data.load_batches)")
        job.execute(
            "insert into raw_data.load_batches (source_table, batch_id, run_date,"
            " is_full_refresh, rows_extracted, rows_loaded, rows_rejected, rows_inserted,"
            " rows_updated, rows_deleted, loaded_at)"
            " values ('t', 'b', '2024-01-01', false, 0, 0, 0, 0, 0, 0, '2024-01-01')"
        )
        assert job.execute("delete from raw_data.load_batches where batch_id = 'b'") == 1
        job.execute("drop table stage_x")


def test_the_analyst_reads_every_presentation_view_and_nothing_else(as_identity):
    analyst = as_identity("analyst")
    for name in view_files():
        columns, _ = analyst.query(f"select * from presentation.{name}")  # noqa: S608
        assert columns, name
    for table in ("raw_data.stg_rental_users", "raw_data.rejects", "curated.dim_customers"):
        with pytest.raises(Exception, match="permission denied"):
            analyst.query(f"select * from {table}")  # noqa: S608
    with pytest.raises(REFUSED):
        analyst.execute("create temp table analyst_scratch (x int)")


def test_no_curated_or_presentation_column_holds_personal_data(warehouse):
    _, columns = warehouse.query(
        "select table_schema || '.' || table_name || '.' || column_name"
        " from information_schema.columns where table_schema in ('curated', 'presentation')"
    )
    assert len(columns) > 50
    assert [c for (c,) in columns if PERSONAL.match(c.rsplit(".", 1)[1])] == []
    # ... while raw_data keeps them, for the owner and the job only.
    _, raw = warehouse.query(
        "select column_name from information_schema.columns"
        " where table_schema = 'raw_data' and table_name = 'stg_rental_users'"
    )
    assert {"first_name", "email", "driver_license_number"} <= {c for (c,) in raw}
