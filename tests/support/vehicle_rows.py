"""Tiny literal rows for the vehicle-rentals warehouse tables, written with bound parameters.

stg_* helpers replace the row with the same key (as a load would) and fill the load metadata
with constants; curated helpers insert one row. Shared by the merge and view tests.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from rental_analytics.warehouse import Warehouse, sql_dir
from tests.support.warehouse_rows import insert_row, replace_row, rows

# The curate step of this domain, in run order (the prefix orders them among all merges).
VEHICLE_MERGE_FILES: tuple[Path, ...] = tuple(
    sql_dir() / "merges" / name
    for name in (
        "050_dim_vehicles.sql",
        "060_dim_locations.sql",
        "070_dim_customers.sql",
        "080_fact_rentals.sql",
    )
)

CURATED_TABLES = (
    "curated.dim_vehicles",
    "curated.dim_locations",
    "curated.dim_customers",
    "curated.fact_rentals",
)


def _money(amount: str | None) -> Decimal | None:
    return None if amount is None else Decimal(amount)


# -- raw_data.stg_* ----------------------------------------------------------------------


def put_stg_vehicle(
    wh: Warehouse,
    vehicle_id: str,
    *,
    vehicle_type: str | None = "basic",
    brand: str | None = "Toyota",
    vehicle_year: int | None = 2020,
    active: bool | None = True,
    last_update_timestamp: datetime | None = datetime(2024, 1, 1),
) -> None:
    replace_row(
        wh,
        "raw_data.stg_vehicles",
        {"vehicle_id": vehicle_id},
        {
            "active": active,
            "vehicle_license_number": f"LIC-{vehicle_id}",
            "registration_name": f"Owner of {vehicle_id}",
            "license_type": "FHV",
            "expiration_date": date(2026, 12, 31),
            "permit_license_number": f"PER-{vehicle_id}",
            "certification_date": date(2020, 6, 1),
            "vehicle_year": vehicle_year,
            "base_telephone_number": "555-0100",
            "base_address": "1 Fleet Street",
            "vehicle_id": vehicle_id,
            "last_update_timestamp": last_update_timestamp,
            "brand": brand,
            "vehicle_type": vehicle_type,
        },
    )


def put_stg_location(
    wh: Warehouse,
    location_id: int,
    *,
    location_name: str | None = None,
    city: str | None = "Austin",
    state: str | None = "TX",
    zip_code: str | None = "07301",
) -> None:
    replace_row(
        wh,
        "raw_data.stg_locations",
        {"location_id": location_id},
        {
            "location_id": location_id,
            "location_name": location_name or f"Location {location_id}",
            "address": f"{location_id} Main Street",
            "city": city,
            "state": state,
            "zip_code": zip_code,
            "latitude": 30.25,
            "longitude": -97.75,
        },
    )


def put_stg_rental_user(
    wh: Warehouse,
    user_id: str,
    *,
    first_name: str | None = "Ada",
    email: str | None = None,
    is_active: bool | None = True,
) -> None:
    replace_row(
        wh,
        "raw_data.stg_rental_users",
        {"user_id": user_id},
        {
            "user_id": user_id,
            "first_name": first_name,
            "last_name": "Lovelace",
            "email": email or f"{user_id}@example.com",
            "phone_number": "555-0199",
            "driver_license_number": f"DL-{user_id}",
            "driver_license_expiry": date(2027, 5, 1),
            "creation_date": date(2023, 2, 1),
            "is_active": is_active,
        },
    )


def put_stg_rental(
    wh: Warehouse,
    rental_id: str,
    *,
    start: datetime | None,
    end: datetime | None,
    total_amount: str | None = "10.0000",
    user_id: str | None = "u1",
    vehicle_id: str | None = "v1",
    pickup_location: int | None = 1,
    dropoff_location: int | None = 1,
) -> None:
    replace_row(
        wh,
        "raw_data.stg_rental_transactions",
        {"rental_id": rental_id},
        {
            "rental_id": rental_id,
            "user_id": user_id,
            "vehicle_id": vehicle_id,
            "rental_start_time": start,
            "rental_end_time": end,
            "pickup_location": pickup_location,
            "dropoff_location": dropoff_location,
            "total_amount": _money(total_amount),
        },
    )


# -- curated -----------------------------------------------------------------------------


def add_vehicle(wh: Warehouse, vehicle_id: str, *, vehicle_type: str | None) -> None:
    insert_row(wh, "curated.dim_vehicles", {"vehicle_id": vehicle_id, "vehicle_type": vehicle_type})


def add_location(
    wh: Warehouse,
    location_id: int,
    *,
    location_name: str | None,
    city: str | None,
    state: str | None,
) -> None:
    insert_row(
        wh,
        "curated.dim_locations",
        {"location_id": location_id, "location_name": location_name, "city": city, "state": state},
    )


def add_rental(
    wh: Warehouse,
    rental_id: str,
    *,
    start: datetime,
    end: datetime,
    total_amount: str,
    user_id: str | None = "u1",
    vehicle_id: str | None = "v1",
    pickup_location_id: int | None = 1,
    dropoff_location_id: int | None = 1,
) -> None:
    """A fact_rentals row with the derived columns the merge stores with every row."""
    seconds = int((end - start).total_seconds())
    insert_row(
        wh,
        "curated.fact_rentals",
        {
            "rental_id": rental_id,
            "user_id": user_id,
            "vehicle_id": vehicle_id,
            "pickup_location_id": pickup_location_id,
            "dropoff_location_id": dropoff_location_id,
            "rental_start_time": start,
            "rental_end_time": end,
            "rental_date": start.date(),
            "duration_seconds": seconds,
            "duration_hours": (Decimal(seconds) / 3600).quantize(Decimal("0.01"), ROUND_HALF_UP),
            "total_amount": Decimal(total_amount),
        },
    )


# -- running and reading -----------------------------------------------------------------


def run_vehicle_merges(wh: Warehouse) -> None:
    """The vehicle-rentals part of the curate step, each file in its own transaction."""
    for path in VEHICLE_MERGE_FILES:
        wh.run_file(path)


def snapshot(wh: Warehouse) -> dict[str, list[tuple]]:
    """Every curated vehicle-rentals table, rows sorted, for before/after comparisons."""
    return {table: sorted(rows(wh, f"select * from {table}"), key=repr) for table in CURATED_TABLES}
