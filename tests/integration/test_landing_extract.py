"""Landed CSV files through extraction (file bookmarks, real Spark) and load_raw (real
PostgreSQL): headers, column order, bad rows and their reasons, empty files, failures that
leave the bookmark, rewritten files, full refresh."""

from __future__ import annotations

import dataclasses
import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from rental_analytics.jobs.curate import run_curate
from rental_analytics.jobs.load_raw import run_load_raw
from rental_analytics.sources.bookmarks import BookmarkStore
from rental_analytics.sources.extract import ExtractError, extract_domain
from rental_analytics.sources.landing import LandingReader
from rental_analytics.storage import LocalLanding

D1, D2, D3 = date(2024, 6, 1), date(2024, 6, 2), date(2024, 6, 3)
TX_HEADER = (
    "rental_id,user_id,vehicle_id,rental_start_time,rental_end_time,pickup_location,"
    "dropoff_location,total_amount"
)


@pytest.fixture
def env(settings, tmp_path, warehouse):
    """Settings with a landing zone, lake and bookmarks of this test's own."""
    return dataclasses.replace(
        settings,
        landing_root=str(tmp_path / "landing"),
        lake_root=str(tmp_path / "lake"),
        bookmarks_root=str(tmp_path / "bookmarks"),
    )


def land(env, key: str, text: str) -> Path:
    path = Path(env.landing_root) / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def extract(spark, env, run_date, reader=None, **kw):
    reader = reader or LandingReader(spark, LocalLanding(env.landing_root))
    return extract_domain(env, "vehicle_rentals", run_date, reader, **kw)


def rows_by_table(result):
    return {t.table: t.rows for t in result.tables}


def test_files_processed_once_any_column_order_extra_columns_noted(spark, env, warehouse):
    land(env, "rental_transactions/a.csv", TX_HEADER + "\nr1,u1,v1,2024-01-01 10:00:00,"
         "2024-01-01 12:30:00,1,2,50.0\n")  # fmt: skip
    land(
        env,
        "rental_transactions/sub/b.csv",
        "Total_Amount, rental_id ,note,user_id,vehicle_id,rental_end_time,rental_start_time,"
        "pickup_location,dropoff_location\n"
        '12.5,r2,"hello, world",u2,v2,2024-02-01 00:10:00,2024-01-31 23:40:00,3,4\n',
    )
    first = extract(spark, env, D1)
    assert rows_by_table(first) == {
        "vehicles": 0, "locations": 0, "rental_users": 0, "rental_transactions": 2
    }  # fmt: skip
    (tx,) = [t for t in first.tables if t.table == "rental_transactions"]
    assert tx.notes == ["rental_transactions/sub/b.csv: extra columns ignored: note"]
    assert rows_by_table(extract(spark, env, D2))["rental_transactions"] == 0

    run_load_raw(spark, env, warehouse)
    _, stg = warehouse.query(
        "select rental_id, user_id, rental_start_time, rental_end_time, pickup_location,"
        " total_amount from raw_data.stg_rental_transactions order by rental_id"
    )
    assert [(r[0], r[1], str(r[2]), str(r[3]), r[4], r[5]) for r in stg] == [
        ("r1", "u1", "2024-01-01 10:00:00", "2024-01-01 12:30:00", 1, Decimal("50.0000")),
        ("r2", "u2", "2024-01-31 23:40:00", "2024-02-01 00:10:00", 3, Decimal("12.5000")),
    ]


def test_bad_rows_are_rejected_with_reasons(spark, env, warehouse):
    land(
        env,
        "rental_transactions/bad.csv",
        TX_HEADER + "\n"
        "ok1,u1,v1,2024-01-01 10:00:00,2024-01-01 11:00:00,1,2,10\n"
        "bad_date,u1,v1,2024-02-30 10:00:00,2024-03-01 11:00:00,1,2,10\n"
        "bad_amount,u1,v1,2024-01-01 10:00:00,2024-01-01 11:00:00,1,2,ten\n"
        "short,u1,v1\n"
        ",u1,v1,2024-01-01 10:00:00,2024-01-01 11:00:00,1,2,10\n"
        "ok2,u2,v2,01-01-2024 10:00:00,2024-01-01 11:00:00,,,0\n",
    )
    extract(spark, env, D1)
    (batch,) = run_load_raw(spark, env, warehouse).batches
    assert (batch.rows_extracted, batch.rows_loaded, batch.rows_rejected) == (6, 2, 4)
    _, rejects = warehouse.query(
        "select record_key, rule, reason, raw_row from raw_data.rejects order by record_key"
    )
    by_key = {r[0]: r[1:] for r in rejects}
    assert by_key["bad_date"][0] == 'ColumnDataType "rental_start_time" = "TIMESTAMP"'
    assert "'2024-02-30 10:00:00'" in by_key["bad_date"][1]
    assert by_key["bad_amount"][0] == 'ColumnDataType "total_amount" = "DECIMAL"'
    assert "'ten'" in by_key["bad_amount"][1]
    assert by_key["short"][0] == "WellFormedRecord"
    assert json.loads(by_key["short"][2]) == {
        "source_file": "rental_transactions/bad.csv",
        "record": "short,u1,v1",
    }
    assert by_key["NULL"][0] == 'IsComplete "rental_id"'
    assert json.loads(by_key["bad_amount"][2])["total_amount"] == "ten"  # the text as landed
    _, stg = warehouse.query("select rental_id from raw_data.stg_rental_transactions order by 1")
    assert stg == [("ok1",), ("ok2",)]


def test_bad_header_fails_the_table_and_leaves_the_bookmark(spark, env):
    land(env, "users/good.csv", "user_id,first_name,last_name,email,phone_number,"
         "driver_license_number,driver_license_expiry,creation_date,is_active\nu1,A,B,,,,,,1\n")  # fmt: skip
    extract(spark, env, D1)
    store = BookmarkStore(env.bookmarks_root, "vehicle_rentals")
    before = store.path.read_text()
    bad = land(env, "vehicles/v.csv", "vehicle_id,brand\nv1,BMW\n")
    with pytest.raises(ExtractError, match=r"vehicles: vehicles/v.csv: missing columns 'active'"):
        extract(spark, env, D2)
    assert store.path.read_text() == before
    bad.unlink()
    land(env, "users/second.csv", "user_id,first_name,last_name,email,phone_number,"
         "driver_license_number,driver_license_expiry,creation_date,is_active\nu2,C,D,,,,,,0\n")  # fmt: skip
    retry = extract(spark, env, D2)
    assert retry.batch_id == "2024-06-02-01"
    assert rows_by_table(retry)["rental_users"] == 1


class FailingLandingReader(LandingReader):
    def read(self, spec, files, matches):
        if spec.name == "rental_transactions":
            raise OSError("connection reset while reading the landing zone")
        return super().read(spec, files, matches)


def test_failed_read_leaves_every_file_pending(spark, env):
    land(env, "locations/location.csv", "location_id,location_name,address,city,state,"
         "zip_code,latitude,longitude\n1,A,x,Fresno,CA,01234,1.5,2.5\n")  # fmt: skip
    land(env, "rental_transactions/t.csv", TX_HEADER + "\nr1,u1,v1,2024-01-01 10:00:00,"
         "2024-01-01 11:00:00,1,2,10\n")  # fmt: skip
    failing = FailingLandingReader(spark, LocalLanding(env.landing_root))
    with pytest.raises(ExtractError, match="rental_transactions"):
        extract(spark, env, D1, reader=failing)
    assert not BookmarkStore(env.bookmarks_root, "vehicle_rentals").path.exists()
    again = extract(spark, env, D1)
    assert again.batch_id == "2024-06-01-01"
    assert rows_by_table(again) == {
        "vehicles": 0, "locations": 1, "rental_users": 0, "rental_transactions": 1
    }  # fmt: skip


def test_header_only_and_empty_files_are_processed_once(spark, env, warehouse):
    land(env, "rental_transactions/header_only.csv", TX_HEADER + "\n")
    land(env, "rental_transactions/empty.csv", "")
    first = extract(spark, env, D1)
    (tx,) = [t for t in first.tables if t.table == "rental_transactions"]
    assert (tx.rows, first.committed) == (0, True)
    assert tx.notes == ["rental_transactions/empty.csv: empty file"]
    assert not extract(spark, env, D2).committed
    (batch,) = run_load_raw(spark, env, warehouse).batches
    assert (batch.rows_extracted, batch.rows_loaded, batch.rows_rejected) == (0, 0, 0)


def test_full_refresh_reconciles_removed_files(spark, env, warehouse):
    header = "location_id,location_name,address,city,state,zip_code,latitude,longitude\n"
    land(env, "locations/a.csv", header + "1,A,x,Fresno,CA,01234,1.5,2.5\n")
    b = land(env, "locations/b.csv", header + "2,B,y,Modesto,CA,95350,,\n")
    extract(spark, env, D1)
    run_load_raw(spark, env, warehouse)
    run_curate(warehouse)
    b.unlink()
    assert not extract(spark, env, D2).committed  # a removed file is not an extraction
    refresh = extract(spark, env, D2, full_refresh=["locations"])
    assert rows_by_table(refresh)["locations"] == 1
    (batch,) = run_load_raw(spark, env, warehouse).batches
    assert batch.rows_deleted == 1
    run_curate(warehouse)
    _, dim = warehouse.query("select location_id, zip_code from curated.dim_locations")
    assert dim == [(1, "01234")]  # zip codes keep their leading zero
    state = BookmarkStore(env.bookmarks_root, "vehicle_rentals").load()
    assert sorted(state.tables["locations"]["files"]) == ["locations/a.csv"]


def test_vehicle_versions_latest_by_timestamp_across_batches(spark, env, warehouse):
    header = (
        "active,vehicle_license_number,registration_name,license_type,expiration_date,"
        "permit_license_number,certification_date,vehicle_year,base_telephone_number,"
        "base_address,vehicle_id,last_update_timestamp,brand,vehicle_type\n"
    )

    def vehicle(vid, ts, vtype):
        return f'1,5818886,"CITY,LIVERY",FOR HIRE VEHICLE,27-09-2025,P1,2018-01-09,2018,,,{vid},{ts},BMW,{vtype}\n'

    land(env, "vehicles/1.csv", header + vehicle("v1", "04-06-2024 13:25:00", "premium")
         + vehicle("v2", "04-06-2024 13:25:00", "basic"))  # fmt: skip
    extract(spark, env, D1)
    run_load_raw(spark, env, warehouse)
    # A later file: v1 older than loaded (kept out), v2 newer (replaces), v3 new.
    land(env, "vehicles/2.csv", header + vehicle("v1", "01-01-2024 00:00:00", "basic")
         + vehicle("v2", "05-06-2024", "high_end") + vehicle("v3", "", " Premium "))  # fmt: skip
    extract(spark, env, D2)
    (batch,) = run_load_raw(spark, env, warehouse).batches
    assert (batch.rows_extracted, batch.rows_loaded, batch.rows_rejected) == (3, 2, 1)
    run_curate(warehouse)
    _, dim = warehouse.query(
        "select vehicle_id, vehicle_type, expiration_date, last_updated_at"
        " from curated.dim_vehicles order by 1"
    )
    assert [(r[0], r[1], str(r[2]), str(r[3])) for r in dim] == [
        ("v1", "premium", "2025-09-27", "2024-06-04 13:25:00"),
        ("v2", "high_end", "2025-09-27", "2024-06-05 00:00:00"),
        ("v3", "premium", "2025-09-27", "None"),
    ]
    _, rejects = warehouse.query("select record_key, reason from raw_data.rejects")
    assert rejects == [
        (
            "v1",
            "superseded: a newer version is already loaded "
            "(last_update_timestamp 2024-06-04 13:25:00)",
        )
    ]
