"""Tiny literal rows for the apartments-domain warehouse tables, written with bound parameters.

stg_* helpers replace the row with the same key (as a load would), each as a batch of its own
recorded in raw_data.load_batches (the merges compare the keys of the batches they have not
merged yet), and fill the rest of the load metadata with constants; curated helpers insert
one row. Shared by the merge and view tests.
"""

from __future__ import annotations

import itertools
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from rental_analytics.warehouse import Warehouse, sql_dir

MERGES = sql_dir() / "merges"
MERGE_FILES: tuple[Path, ...] = tuple(sorted(MERGES.glob("*.sql")))

LOAD_METADATA = {
    "load_run_date": date(2024, 1, 1),
    "load_row_hash": "0" * 32,
    "loaded_at": datetime(2024, 1, 1, 2, 0, 0),
}

CURATED_TABLES = (
    "curated.dim_listings",
    "curated.fact_bookings",
    "curated.fact_user_views",
    "curated.dim_users",
)


def insert_row(wh: Warehouse, table: str, row: dict) -> None:
    columns = ", ".join(row)
    values = ", ".join(f"%({name})s" for name in row)
    wh.execute(f"insert into {table} ({columns}) values ({values})", row)


_BATCH_NUMBERS = itertools.count(1)


def record_batch(wh: Warehouse, stg_table: str, *, full_refresh: bool = False) -> str:
    """A new batch of ``raw_data.<stg_table>`` in raw_data.load_batches, as load_raw records
    each batch it merges; its id. A full refresh is the only load that deletes stg rows."""
    batch_id = f"test-batch-{next(_BATCH_NUMBERS)}"
    counts = dict.fromkeys(("extracted", "loaded", "rejected", "inserted", "updated", "deleted"), 0)
    insert_row(
        wh,
        "raw_data.load_batches",
        {
            "source_table": stg_table.removeprefix("raw_data.").removeprefix("stg_"),
            "batch_id": batch_id,
            "run_date": LOAD_METADATA["load_run_date"],
            "is_full_refresh": full_refresh,
            **{f"rows_{name}": n for name, n in counts.items()},
            "loaded_at": LOAD_METADATA["loaded_at"],
        },
    )
    return batch_id


def replace_row(wh: Warehouse, table: str, key: dict, row: dict) -> None:
    where = " and ".join(f"{name} = %({name})s" for name in key)
    wh.execute(f"delete from {table} where {where}", key)
    batch_id = record_batch(wh, table)
    insert_row(wh, table, {**row, **LOAD_METADATA, "load_batch_id": batch_id})


# -- raw_data.stg_* ----------------------------------------------------------------------


def put_stg_apartment(
    wh: Warehouse,
    apartment_id: int,
    *,
    price: str | None = "100.00",
    currency: str | None = "USD",
    listing_created_on: date | None = date(2024, 1, 1),
    is_active: bool | None = True,
    last_modified_timestamp: datetime | None = datetime(2024, 1, 1),
    title: str | None = None,
) -> None:
    replace_row(
        wh,
        "raw_data.stg_apartments",
        {"id": apartment_id},
        {
            "id": apartment_id,
            "title": title if title is not None else f"Apartment {apartment_id}",
            "source": "RentLingo",
            "price": None if price is None else Decimal(price),
            "currency": currency,
            "listing_created_on": listing_created_on,
            "is_active": is_active,
            "last_modified_timestamp": last_modified_timestamp,
        },
    )


def put_stg_attributes(
    wh: Warehouse,
    apartment_id: int,
    *,
    cityname: str | None = "Austin",
    state: str | None = "TX",
    bedrooms: int | None = 2,
) -> None:
    replace_row(
        wh,
        "raw_data.stg_apartment_attributes",
        {"id": apartment_id},
        {
            "id": apartment_id,
            "category": "housing/rent/apartment",
            "bedrooms": bedrooms,
            "cityname": cityname,
            "state": state,
        },
    )


def put_stg_booking(
    wh: Warehouse,
    booking_id: int,
    *,
    user_id: int | None,
    apartment_id: int | None,
    booking_date: date | None,
    checkin_date: date | None,
    checkout_date: date | None,
    total_price: str | None = "100.00",
    currency: str | None = "USD",
    booking_status: str | None = "confirmed",
) -> None:
    replace_row(
        wh,
        "raw_data.stg_bookings",
        {"booking_id": booking_id},
        {
            "booking_id": booking_id,
            "user_id": user_id,
            "apartment_id": apartment_id,
            "booking_date": booking_date,
            "checkin_date": checkin_date,
            "checkout_date": checkout_date,
            "total_price": None if total_price is None else Decimal(total_price),
            "currency": currency,
            "booking_status": booking_status,
        },
    )


def put_stg_view(
    wh: Warehouse,
    *,
    user_id: int,
    apartment_id: int,
    viewed_at: datetime,
    is_wishlisted: bool | None = False,
    call_to_action: str | None = "contact_owner",
) -> None:
    key = {"user_id": user_id, "apartment_id": apartment_id, "viewed_at": viewed_at}
    replace_row(
        wh,
        "raw_data.stg_user_viewing",
        key,
        {**key, "is_wishlisted": is_wishlisted, "call_to_action": call_to_action},
    )


def delete_stg(wh: Warehouse, table: str, **key: object) -> None:
    """A row that left stg: only a full refresh deletes stg rows, so it is one."""
    where = " and ".join(f"{name} = %({name})s" for name in key)
    wh.execute(f"delete from raw_data.{table} where {where}", key)
    record_batch(wh, table, full_refresh=True)


# -- curated -----------------------------------------------------------------------------


def add_listing(
    wh: Warehouse,
    listing_id: int,
    *,
    listing_created_on: date | None,
    price: str | None = "100.00",
    currency: str | None = "USD",
    is_active: bool | None = True,
    cityname: str | None = None,
    state: str | None = None,
) -> None:
    insert_row(
        wh,
        "curated.dim_listings",
        {
            "listing_id": listing_id,
            "price": None if price is None else Decimal(price),
            "currency": currency,
            "listing_created_on": listing_created_on,
            "is_active": is_active,
            "cityname": cityname,
            "state": state,
        },
    )


def add_booking(
    wh: Warehouse,
    booking_id: int,
    *,
    listing_id: int | None,
    checkin_date: date,
    checkout_date: date,
    booking_date: date | None = None,
    user_id: int | None = 1,
    total_price: str | None = "100.00",
    currency: str | None = "USD",
) -> None:
    """A fact_bookings row; ``nights`` is the stay length the merge stores with every row."""
    insert_row(
        wh,
        "curated.fact_bookings",
        {
            "booking_id": booking_id,
            "listing_id": listing_id,
            "user_id": user_id,
            "booking_date": booking_date if booking_date is not None else checkin_date,
            "checkin_date": checkin_date,
            "checkout_date": checkout_date,
            "nights": (checkout_date - checkin_date).days,
            "total_price": None if total_price is None else Decimal(total_price),
            "currency": currency,
        },
    )


# -- running and reading -----------------------------------------------------------------


def run_merges(wh: Warehouse) -> None:
    """The curate step: every merge file in sorted order, each in its own transaction."""
    assert MERGE_FILES, f"no merge files under {MERGES}"
    for path in MERGE_FILES:
        wh.run_file(path)


def rows(wh: Warehouse, sql: str, params: dict | None = None) -> list[tuple]:
    return wh.query(sql, params)[1]


def snapshot(wh: Warehouse) -> dict[str, list[tuple]]:
    """Every curated apartments-domain table, rows sorted, for before/after comparisons."""
    return {table: sorted(rows(wh, f"select * from {table}"), key=repr) for table in CURATED_TABLES}


# -- presentation views: column names and types ----------------------------------------

# (data_type, numeric_precision, numeric_scale) as information_schema describes them.
DATE = ("date", None, None)
BIGINT = ("bigint", 64, 0)
INTEGER = ("integer", 32, 0)
TEXT = ("character varying", None, None)
MONEY = ("numeric", 14, 2)
RATE = ("numeric", 10, 4)
HOURS = ("numeric", 12, 2)


def view_columns(wh: Warehouse, view: str) -> list[tuple]:
    """(column_name, data_type, numeric_precision, numeric_scale) of a presentation view."""
    return rows(
        wh,
        "select column_name, data_type, numeric_precision, numeric_scale"
        " from information_schema.columns"
        " where table_schema = 'presentation' and table_name = %(view)s"
        " order by ordinal_position",
        {"view": view},
    )
