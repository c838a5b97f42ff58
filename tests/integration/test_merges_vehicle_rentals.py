"""The curated merges of the vehicle-rentals domain (redshift/merges/050..080) on the real local
warehouse.

Each test writes a few literal stg_* rows, runs the domain's merge files in order and compares
whole curated rows (and, where the point is attribution, the KPI views) with hand-computed ones.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest

from rental_analytics.columns import LOAD_COLUMNS
from rental_analytics.jobs.curate import merge_target
from rental_analytics.sources.tables import VEHICLE_RENTALS_TABLES
from rental_analytics.warehouse import sql_dir
from tests.support.vehicle_rows import (
    VEHICLE_MERGE_FILES,
    put_stg_location,
    put_stg_rental,
    put_stg_rental_user,
    put_stg_vehicle,
    run_vehicle_merges,
    snapshot,
)
from tests.support.warehouse_rows import delete_stg, rows

D = Decimal
VEHICLES = "select * from curated.dim_vehicles order by vehicle_id"
LOCATIONS = "select * from curated.dim_locations order by location_id"
CUSTOMERS = "select * from curated.dim_customers order by user_id"
RENTALS = "select * from curated.fact_rentals order by rental_id"
RENTAL_IDS = "select rental_id from curated.fact_rentals order by rental_id"
TYPE_PERFORMANCE = (
    "select vehicle_type, transactions, revenue from presentation.vw_vehicle_type_performance"
    " order by 1"
)


def _small_fleet(wh) -> None:
    put_stg_vehicle(
        wh,
        "v1",
        vehicle_type=" Premium ",
        brand="BMW",
        vehicle_year=2022,
        active=False,
        last_update_timestamp=datetime(2024, 1, 2, 8, 30),
    )
    put_stg_location(wh, 1, location_name="Downtown", city="Austin", state="TX", zip_code="07301")
    put_stg_rental_user(wh, "u1", first_name="Ada", is_active=True)
    # 2024-01-31 22:30 -> 2024-02-01 01:10: across midnight and a month end, 9600 s = 2.67 h.
    put_stg_rental(
        wh,
        "r1",
        start=datetime(2024, 1, 31, 22, 30),
        end=datetime(2024, 2, 1, 1, 10),
        total_amount="42.1250",
        user_id="u1",
        vehicle_id="v1",
        pickup_location=1,
        dropoff_location=2,
    )


def test_merges_build_the_curated_tables(warehouse):
    _small_fleet(warehouse)

    run_vehicle_merges(warehouse)

    assert rows(warehouse, VEHICLES) == [
        (
            "v1",
            "premium",  # trimmed and lowercased
            "BMW",
            2022,
            False,
            "LIC-v1",
            "Owner of v1",
            "FHV",
            date(2026, 12, 31),
            "PER-v1",
            date(2020, 6, 1),
            "555-0100",
            "1 Fleet Street",
            datetime(2024, 1, 2, 8, 30),
        ),
    ]
    assert rows(warehouse, LOCATIONS) == [
        (1, "Downtown", "1 Main Street", "Austin", "TX", "07301", 30.25, -97.75),
    ]
    assert rows(warehouse, CUSTOMERS) == [
        (
            "u1",
            date(2027, 5, 1),
            date(2023, 2, 1),
            True,
        ),
    ]
    assert rows(warehouse, RENTALS) == [
        (
            "r1",
            "u1",
            "v1",
            1,
            2,  # drop-off location 2 has no dimension row: kept as given
            datetime(2024, 1, 31, 22, 30),
            datetime(2024, 2, 1, 1, 10),
            date(2024, 1, 31),  # the start's day
            9600,  # 2h40m
            D("2.67"),  # 9600 / 3600 = 2.666... rounded half-up
            D("42.1250"),  # four decimals kept as given
        ),
    ]


def test_merges_are_idempotent(warehouse):
    _small_fleet(warehouse)
    run_vehicle_merges(warehouse)
    first = snapshot(warehouse)

    run_vehicle_merges(warehouse)

    assert snapshot(warehouse) == first
    assert all(first.values()), "every curated vehicle-rentals table should hold rows here"


def test_newer_stg_versions_replace_the_older_ones(warehouse):
    _small_fleet(warehouse)
    run_vehicle_merges(warehouse)
    assert rows(warehouse, TYPE_PERFORMANCE) == [("premium", 1, D("42.13"))]

    # A newer version of each row lands in stg (stg holds only the latest version).
    put_stg_vehicle(
        warehouse, "v1", vehicle_type="BASIC", last_update_timestamp=datetime(2024, 3, 1, 12)
    )
    put_stg_location(warehouse, 1, location_name="Downtown", city="Round Rock", state="TX")
    put_stg_rental_user(warehouse, "u1", first_name="Grace", is_active=False)
    put_stg_rental(
        warehouse,
        "r1",
        start=datetime(2024, 2, 1, 9),
        end=datetime(2024, 2, 1, 9, 20),
        total_amount="15.5000",
        vehicle_id="v1",
    )
    run_vehicle_merges(warehouse)

    assert rows(
        warehouse, "select vehicle_id, vehicle_type, last_updated_at from curated.dim_vehicles"
    ) == [
        ("v1", "basic", datetime(2024, 3, 1, 12)),
    ]
    assert rows(warehouse, "select location_id, city from curated.dim_locations") == [
        (1, "Round Rock")
    ]
    assert rows(warehouse, "select user_id, is_active from curated.dim_customers") == [
        ("u1", False)
    ]
    assert rows(
        warehouse,
        "select rental_id, rental_date, duration_seconds, duration_hours, total_amount"
        " from curated.fact_rentals",
    ) == [("r1", date(2024, 2, 1), 1200, D("0.33"), D("15.5000"))]
    # The vehicle's new type moves its rental in the KPIs.
    assert rows(warehouse, TYPE_PERFORMANCE) == [("basic", 1, D("15.50"))]


def test_vehicle_type_is_normalized_and_blank_is_unknown(warehouse):
    types = {"v1": " High_End", "v2": "BASIC ", "v3": "   ", "v4": "", "v5": None}
    for vehicle_id, vehicle_type in types.items():
        put_stg_vehicle(warehouse, vehicle_id, vehicle_type=vehicle_type)
        put_stg_rental(
            warehouse,
            f"r{vehicle_id}",
            start=datetime(2024, 4, 1, 10),
            end=datetime(2024, 4, 1, 11),
            total_amount="10.0000",
            vehicle_id=vehicle_id,
        )

    run_vehicle_merges(warehouse)

    assert rows(
        warehouse, "select vehicle_id, vehicle_type from curated.dim_vehicles order by 1"
    ) == [
        ("v1", "high_end"),
        ("v2", "basic"),
        ("v3", None),
        ("v4", None),
        ("v5", None),
    ]
    assert rows(warehouse, TYPE_PERFORMANCE) == [
        ("basic", 1, D("10.00")),
        ("high_end", 1, D("10.00")),
        ("unknown", 3, D("30.00")),
    ]


def test_invalid_transactions_are_excluded(warehouse):
    start = datetime(2024, 5, 1, 10)
    cases = {
        # rental_id: (start, end, total_amount)
        "ok": (start, datetime(2024, 5, 1, 11), "10.0000"),
        "ok_free": (start, datetime(2024, 5, 1, 11), "0.0000"),  # amount 0 is valid
        "ok_one_second": (start, datetime(2024, 5, 1, 10, 0, 1), "1.0000"),
        "end_equals_start": (start, start, "10.0000"),
        "end_before_start": (start, datetime(2024, 5, 1, 9), "10.0000"),
        "no_start": (None, datetime(2024, 5, 1, 11), "10.0000"),
        "no_end": (start, None, "10.0000"),
        "no_amount": (start, datetime(2024, 5, 1, 11), None),
        "negative_amount": (start, datetime(2024, 5, 1, 11), "-0.0001"),
    }
    for rental_id, (rental_start, rental_end, amount) in cases.items():
        put_stg_rental(
            warehouse, rental_id, start=rental_start, end=rental_end, total_amount=amount
        )

    run_vehicle_merges(warehouse)

    assert rows(
        warehouse,
        "select rental_id, duration_seconds, duration_hours from curated.fact_rentals order by 1",
    ) == [
        ("ok", 3600, D("1.00")),
        ("ok_free", 3600, D("1.00")),
        ("ok_one_second", 1, D("0.00")),
    ]


def test_transaction_that_becomes_invalid_leaves_the_fact(warehouse):
    rental = dict(start=datetime(2024, 6, 1, 10), user_id="u1", vehicle_id="v1")
    put_stg_rental(warehouse, "r1", **rental, end=datetime(2024, 6, 1, 12), total_amount="30.0000")
    put_stg_rental(warehouse, "r2", **rental, end=datetime(2024, 6, 1, 11), total_amount="20.0000")
    run_vehicle_merges(warehouse)
    assert rows(warehouse, RENTAL_IDS) == [("r1",), ("r2",)]

    # r1 is replaced by a version ending before it starts, r2 by one with a negative amount.
    put_stg_rental(warehouse, "r1", **rental, end=datetime(2024, 6, 1, 9), total_amount="30.0000")
    put_stg_rental(warehouse, "r2", **rental, end=datetime(2024, 6, 1, 11), total_amount="-20.0000")
    run_vehicle_merges(warehouse)

    assert rows(warehouse, RENTAL_IDS) == []
    assert rows(
        warehouse, "select transactions, revenue from presentation.vw_rental_business_summary"
    ) == [(0, D("0.00"))]


def test_unknown_dimensions_are_kept_and_attributed_once_they_arrive(warehouse):
    put_stg_rental(
        warehouse,
        "r1",
        start=datetime(2024, 7, 1, 10),
        end=datetime(2024, 7, 1, 12),
        total_amount="80.0000",
        user_id="u9",  # not in stg_rental_users
        vehicle_id="v9",  # not in stg_vehicles
        pickup_location=9,  # not in stg_locations
        dropoff_location=None,
    )
    put_stg_rental(
        warehouse,
        "r2",
        start=datetime(2024, 7, 2, 10),
        end=datetime(2024, 7, 2, 11),
        total_amount="20.0000",
        user_id=None,
        vehicle_id=None,
        pickup_location=None,
        dropoff_location=None,
    )
    run_vehicle_merges(warehouse)

    assert rows(
        warehouse,
        "select rental_id, user_id, vehicle_id, pickup_location_id, dropoff_location_id"
        " from curated.fact_rentals order by 1",
    ) == [("r1", "u9", "v9", 9, None), ("r2", None, None, None, None)]
    assert rows(warehouse, TYPE_PERFORMANCE) == [("unknown", 2, D("100.00"))]
    location_kpis = (
        "select location_id, location_name, city, transactions"
        " from presentation.vw_location_performance order by 1 nulls last"
    )
    assert rows(warehouse, location_kpis) == [
        (9, "unknown", "unknown", 1),
        (None, "unknown", "unknown", 1),
    ]

    # The vehicle and the location land later: the next curate run attributes r1 to them.
    put_stg_vehicle(warehouse, "v9", vehicle_type="high_end")
    put_stg_location(warehouse, 9, location_name="Airport", city="Denver", state="CO")
    run_vehicle_merges(warehouse)

    assert rows(warehouse, TYPE_PERFORMANCE) == [
        ("high_end", 1, D("80.00")),
        ("unknown", 1, D("20.00")),
    ]
    assert rows(warehouse, location_kpis) == [
        (9, "Airport", "Denver", 1),
        (None, "unknown", "unknown", 1),
    ]


def test_rows_that_leave_stg_leave_curated(warehouse):
    _small_fleet(warehouse)
    put_stg_vehicle(warehouse, "v2")
    run_vehicle_merges(warehouse)

    delete_stg(warehouse, "stg_vehicles", vehicle_id="v2")
    delete_stg(warehouse, "stg_locations", location_id=1)
    delete_stg(warehouse, "stg_rental_users", user_id="u1")
    delete_stg(warehouse, "stg_rental_transactions", rental_id="r1")
    run_vehicle_merges(warehouse)

    assert [r[0] for r in rows(warehouse, VEHICLES)] == ["v1"]
    assert rows(warehouse, LOCATIONS) == []
    assert rows(warehouse, CUSTOMERS) == []
    assert rows(warehouse, RENTALS) == []


@pytest.mark.parametrize("spec", VEHICLE_RENTALS_TABLES, ids=lambda spec: spec.name)
def test_stg_tables_hold_the_spec_columns_then_the_load_columns(warehouse, spec):
    columns = rows(
        warehouse,
        "select column_name from information_schema.columns"
        " where table_schema = 'raw_data' and table_name = %(table)s order by ordinal_position",
        {"table": spec.stg_table},
    )
    primary_key = rows(
        warehouse,
        "select kcu.column_name from information_schema.table_constraints as tc"
        " inner join information_schema.key_column_usage as kcu"
        " on tc.constraint_name = kcu.constraint_name and tc.table_schema = kcu.table_schema"
        " where tc.table_schema = 'raw_data' and tc.table_name = %(table)s"
        " and tc.constraint_type = 'PRIMARY KEY' order by kcu.ordinal_position",
        {"table": spec.stg_table},
    )

    assert [c for (c,) in columns] == [*spec.column_names, *LOAD_COLUMNS]
    assert tuple(c for (c,) in primary_key) == spec.primary_key


def test_merge_files_are_part_of_the_curate_step_and_name_their_target(warehouse):
    all_merges = sorted((sql_dir() / "merges").glob("*.sql"))
    curated = {
        table
        for (table,) in rows(
            warehouse,
            "select table_name from information_schema.tables where table_schema = 'curated'",
        )
    }

    for path in VEHICLE_MERGE_FILES:
        assert path in all_merges
        assert merge_target(path) in curated  # the table curate counts after the merge
