"""Upgrades in place (SPEC 4) on real PostgreSQL: a warehouse at this code's version N, with
data, takes a version N+1 that adds a column to a staging table, changes a view's columns and
adds a table; every row stays, the KPIs are equal, applying again changes nothing, and a job
of the other version fails at once naming both versions."""

from __future__ import annotations

import shutil
import uuid
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import psycopg
import pytest

from rental_analytics.jobs.curate import run_curate
from rental_analytics.local import postgres_compat
from rental_analytics.warehouse.base import sql_dir
from rental_analytics.warehouse.migrations import (
    VersionMismatch,
    apply,
    code_version,
    require_version,
    view_files,
    warehouse_version,
)
from rental_analytics.warehouse.postgres import PostgresWarehouse
from tests.support.vehicle_rows import (
    put_stg_location,
    put_stg_rental,
    put_stg_rental_user,
    put_stg_vehicle,
    run_vehicle_merges,
)

CHANGED_VIEW = "vw_rental_business_summary"


@pytest.fixture
def fresh_warehouse(settings):
    """An empty database of its own on the test PostgreSQL, as its admin, with Redshift's
    DATEDIFF/DATEADD as the local stack gives every warehouse database."""
    admin = settings.warehouse
    name = f"upgrade_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(
        host=admin.host, port=admin.port, user=admin.user, password=admin.password,
        dbname=admin.database, autocommit=True,
    ) as conn:  # fmt: skip
        conn.execute(f'create database "{name}"')
        postgres_compat.install(replace(admin, database=name))
        wh = PostgresWarehouse(replace(admin, database=name))
        try:
            yield wh
        finally:
            wh.close()
            conn.execute(f'drop database "{name}" with (force)')


def _next_version(tmp_path: Path) -> tuple[Path, int]:
    """This code's redshift/ plus a migration N+1 and a view with one more column."""
    root = tmp_path / "redshift"
    shutil.copytree(sql_dir(), root)
    version = code_version() + 1
    folder = root / "migrations" / f"{version:04d}_loyalty"
    folder.mkdir()
    (folder / "010_stg_rental_users_loyalty_tier.sql").write_text(
        "alter table raw_data.stg_rental_users add column loyalty_tier varchar(32);\n"
    )
    (folder / "020_curated_dim_regions.sql").write_text(
        "create table curated.dim_regions (\n    region_id integer not null,\n"
        "    region_name varchar(256),\n    primary key (region_id)\n)\ndiststyle all;\n"
    )
    view = root / "views" / f"{CHANGED_VIEW}.sql"
    body = view.read_text().split(f"presentation.{CHANGED_VIEW} as", 1)[1].strip().rstrip(";")
    view.write_text(
        f"create view presentation.{CHANGED_VIEW} as\nselect\n    v.*,\n"
        f"    cast(0 as bigint) as loyal_customers\nfrom (\n{body}\n) as v;\n"
    )
    return root, version


def _data(wh) -> None:
    put_stg_vehicle(wh, "v1", vehicle_type="SUV", last_update_timestamp=datetime(2024, 1, 2))
    put_stg_location(wh, 1, location_name="Downtown", city="Austin", state="TX")
    for user in ("u1", "u2"):
        put_stg_rental_user(wh, user)
    for n, (user, hour) in enumerate([("u1", 9), ("u1", 12), ("u2", 15)]):
        put_stg_rental(
            wh, f"r{n}", start=datetime(2024, 2, 1, hour), end=datetime(2024, 2, 1, hour + 1),
            total_amount=f"{10 + n}.5000", user_id=user, vehicle_id="v1",
        )  # fmt: skip
    run_vehicle_merges(wh)


def _counts(wh) -> dict[str, int]:
    _, tables = wh.query(
        "select table_schema || '.' || table_name from information_schema.tables"
        " where table_schema in ('raw_data', 'curated') and table_type = 'BASE TABLE'"
    )
    return {t: wh.query(f"select count(*) from {t}")[1][0][0] for (t,) in tables}  # noqa: S608


def _kpis(wh) -> dict[str, tuple[list[str], list[tuple]]]:
    result = {}
    for name in view_files():
        columns, rows = wh.query(f"select * from presentation.{name}")  # noqa: S608
        result[name] = (columns, sorted(rows, key=repr))
    return result


def test_a_new_version_is_applied_in_place_keeping_rows_and_kpis(fresh_warehouse, tmp_path):
    wh = fresh_warehouse
    first = apply(wh)
    n = code_version()
    assert (first.before, first.after, len(first.applied)) == (0, n, n)
    _data(wh)
    counts, kpis = _counts(wh), _kpis(wh)
    assert counts["curated.fact_rentals"] == 3 and counts["raw_data.stg_rental_users"] == 2

    root, version = _next_version(tmp_path)
    upgraded = apply(wh, root)
    assert upgraded.applied == [f"{version:04d}_loyalty"]
    assert (upgraded.before, upgraded.after) == (n, version) == (n, warehouse_version(wh))

    assert _counts(wh) == {**counts, "curated.dim_regions": 0}  # every row kept, a new table
    after = _kpis(wh)
    assert {k: v for k, v in after.items() if k != CHANGED_VIEW} == {
        k: v for k, v in kpis.items() if k != CHANGED_VIEW
    }
    columns, rows = after[CHANGED_VIEW]
    old_columns, old_rows = kpis[CHANGED_VIEW]
    assert columns == [*old_columns, "loyal_customers"]
    assert [r[:-1] for r in rows] == old_rows and old_rows
    _, added = wh.query(
        "select data_type from information_schema.columns where table_schema = 'raw_data'"
        " and table_name = 'stg_rental_users' and column_name = 'loyalty_tier'"
    )
    assert added == [("character varying",)]

    again = apply(wh, root)
    assert (again.applied, again.before, again.after) == ([], version, version)
    assert _counts(wh) == {**counts, "curated.dim_regions": 0}
    assert _kpis(wh) == after
    _, ledger = wh.query("select version, name from warehouse_meta.schema_migrations order by 1")
    assert [v for v, _ in ledger] == list(range(1, version + 1))

    # A job of version N against the warehouse at N+1: fails at once, naming both.
    with pytest.raises(VersionMismatch, match=rf"version {version} .*version {n}\b"):
        run_curate(wh)
    assert require_version(wh, root) == version
    # And the code of N+1 refuses a warehouse left at N ...
    with pytest.raises(VersionMismatch, match="newer than this code"):
        apply(wh)


def test_a_job_against_an_older_warehouse_fails_naming_both_versions(fresh_warehouse, tmp_path):
    wh = fresh_warehouse
    apply(wh)
    root, version = _next_version(tmp_path)
    with pytest.raises(
        VersionMismatch,
        match=rf"warehouse is at version {version - 1} but this code needs version {version}",
    ):
        require_version(wh, root)
