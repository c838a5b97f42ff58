"""Importing lab-format CSVs into the real local MariaDB (`rental_db`)."""

from __future__ import annotations

import csv
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from rental_analytics.local import source_db
from rental_analytics.local.importer import (
    NOT_APARTMENTS_DOMAIN,
    SourceImportError,
    import_apartments,
    rejects_dir,
)

LAB_SAMPLES = Path(__file__).resolve().parents[3] / "shared/datasets/rental-marketplace-lab-samples"

APARTMENTS_HEADER = (
    "id,title,source,price,currency,listing_created_on,is_active,last_modified_timestamp"
)
BOOKINGS_HEADER = (
    "booking_id,user_id,apartment_id,booking_date,checkin_date,checkout_date,total_price,"
    "currency,booking_status"
)


def query(settings, sql: str, params=None) -> list[tuple]:
    conn = source_db.connect(settings)
    try:
        with conn.cursor() as cur:
            cur.execute(sql, params)
            return list(cur.fetchall())
    finally:
        conn.close()


def write(directory: Path, name: str, *lines: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def lab_samples() -> Path:
    if not LAB_SAMPLES.is_dir():
        pytest.skip(f"lab samples not available at {LAB_SAMPLES}")
    return LAB_SAMPLES


def test_import_lab_samples(clean_source, lab_samples):
    settings = clean_source
    assert source_db.is_empty(settings)

    summary = import_apartments(settings, lab_samples)

    assert {f.table: f.rows_upserted for f in summary.imported} == {
        "apartments": 10,
        "apartment_attributes": 10,
        "bookings": 10,
        "user_viewing": 10,
    }
    assert summary.rows_rejected == 0
    assert source_db.table_counts(settings) == {
        "apartments": 10,
        "apartment_attributes": 10,
        "bookings": 10,
        "user_viewing": 10,
    }
    assert not source_db.is_empty(settings)

    assert query(settings, "select * from apartments where id = 1") == [
        (
            1, "Johnson, Fowler and Johnson", "Realtor", Decimal("4020.95"), "EUR",
            date(2024, 3, 27), 1, datetime(2021, 12, 27),
        )
    ]  # fmt: skip
    assert query(
        settings,
        "select amenities, pets_allowed, has_photo, price_display, address, latitude, longitude"
        " from apartment_attributes where id = 1",
    ) == [
        (
            "Balcony, Air Conditioning", 0, 1, "$1588.42", "92525 Holt Turnpike Lake Keith, KY 50153",
            Decimal("20.457092"), Decimal("0.466220"),
        )
    ]  # fmt: skip
    # 4867.8 in the file is a price of 4867.80; checkout before checkin is kept as it is.
    assert query(
        settings,
        "select total_price, checkin_date, checkout_date, booking_status from bookings"
        " where booking_id = 9",
    ) == [(Decimal("4867.80"), date(2023, 7, 10), date(2020, 12, 18), "canceled")]
    assert query(
        settings,
        "select is_wishlisted, call_to_action from user_viewing"
        " where user_id = 5353 and apartment_id = 180678 and viewed_at = '2023-01-23'",
    ) == [(0, "Reported")]


def test_second_import_updates_changed_rows_and_inserts_new(clean_source, tmp_path):
    settings = clean_source
    first = tmp_path / "first"
    write(
        first,
        "apartments.csv",
        APARTMENTS_HEADER,
        "1,Old title,Zillow,1000.00,USD,01/02/2021,True,01/02/2021",
        "2,Kept,Airbnb,2000.50,EUR,03/04/2021,False,03/04/2021",
    )
    one = import_apartments(settings, first).for_table("apartments")[0]
    assert (one.rows_inserted, one.rows_updated, one.rows_unchanged) == (2, 0, 0)

    second = tmp_path / "second"
    write(
        second,
        "apartments.csv",
        APARTMENTS_HEADER,
        "1,New title,Zillow,1100.00,USD,01/02/2021,False,05/06/2022",
        "2,Kept,Airbnb,2000.50,EUR,03/04/2021,False,03/04/2021",
        "3,Brand new,Realtor,3000,INR,07/08/2022,True,07/08/2022",
    )
    two = import_apartments(settings, second).for_table("apartments")[0]

    assert (two.rows_read, two.rows_upserted) == (3, 3)
    assert (two.rows_inserted, two.rows_updated, two.rows_unchanged) == (1, 1, 1)
    assert query(settings, "select id, title, price, is_active, last_modified_timestamp"
                 " from apartments order by id") == [
        (1, "New title", Decimal("1100.00"), 0, datetime(2022, 6, 5)),
        (2, "Kept", Decimal("2000.50"), 0, datetime(2021, 4, 3)),
        (3, "Brand new", Decimal("3000.00"), 1, datetime(2022, 8, 7)),
    ]  # fmt: skip


def test_duplicate_key_in_one_file_later_line_wins(clean_source, tmp_path):
    settings = clean_source
    write(
        tmp_path,
        "bookings.csv",
        BOOKINGS_HEADER,
        "1,10,100,01/01/2024,02/01/2024,05/01/2024,1500.00,USD,pending",
        "2,11,101,01/01/2024,02/01/2024,05/01/2024,1600.00,EUR,confirmed",
        "1,10,100,01/01/2024,02/01/2024,05/01/2024,1500.00,USD,confirmed",
    )
    result = import_apartments(settings, tmp_path).for_table("bookings")[0]

    assert (result.rows_read, result.rows_upserted, result.duplicate_keys) == (3, 2, 1)
    assert "the later line won" in result.describe()
    assert query(settings, "select booking_id, booking_status from bookings order by 1") == [
        (1, "confirmed"),
        (2, "confirmed"),
    ]


def test_bad_rows_are_rejected_with_reasons_and_good_rows_imported(clean_source, tmp_path):
    settings = clean_source
    write(
        tmp_path,
        "bookings.csv",
        BOOKINGS_HEADER,  # line 1
        "1,10,100,01/01/2024,02/01/2024,05/01/2024,1500.00,USD,confirmed",
        "2,11,101,31/02/2024,02/01/2024,05/01/2024,1600.00,EUR,confirmed",  # bad date
        "3,12,102,01/01/2024,02/01/2024,05/01/2024,cheap,EUR,pending",  # bad price
        "4,13,103,01/01/2024,02/01/2024,05/01/2024,1700.00,INR",  # 8 fields
        ",14,104,01/01/2024,02/01/2024,05/01/2024,1800.00,INR,pending",  # NULL key
        '5,15,105,01/01/2024,,,"1,900.00",USD,canceled',  # thousands separator
        "6,16,,01/01/2024,,,,, Confirmed ",  # NULLs where allowed: imported
    )
    summary = import_apartments(settings, tmp_path)
    result = summary.for_table("bookings")[0]

    assert (result.rows_read, result.rows_upserted, result.rows_rejected) == (7, 2, 5)
    assert query(settings, "select booking_id, apartment_id, total_price, booking_status"
                 " from bookings order by 1") == [
        (1, 100, Decimal("1500.00"), "confirmed"),
        (6, None, None, " Confirmed "),
    ]  # fmt: skip
    assert result.reject_file == rejects_dir(settings) / "bookings.rejects.csv"
    with open(result.reject_file, newline="") as fh:
        rejects = list(csv.DictReader(fh))
    assert [int(r["line_number"]) for r in rejects] == [3, 4, 5, 6, 7]
    reasons = [r["reason"] for r in rejects]
    assert reasons[0].startswith("booking_date: invalid calendar date: '31/02/2024'")
    assert reasons[1] == "total_price: not a number: 'cheap'"
    assert reasons[2] == "wrong number of fields: expected 9, got 8"
    assert reasons[3].startswith("booking_id: NULL")
    assert reasons[4] == "total_price: not a number: '1,900.00'"
    assert rejects[1]["record"] == "3,12,102,01/01/2024,02/01/2024,05/01/2024,cheap,EUR,pending"

    # A clean re-import removes the stale rejects report.
    write(tmp_path, "bookings.csv", BOOKINGS_HEADER, "1,10,100,01/01/2024,,,1.00,USD,pending")
    again = import_apartments(settings, tmp_path).for_table("bookings")[0]
    assert again.rows_rejected == 0 and again.reject_file is None
    assert not result.reject_file.exists()


def test_missing_column_fails_clearly_and_imports_nothing(clean_source, tmp_path):
    settings = clean_source
    write(tmp_path, "apartments.csv", APARTMENTS_HEADER, "1,A,Zillow,1000,USD,,True,")
    write(
        tmp_path,
        "bookings.csv",
        "booking_id,user_id,apartment_id,booking_date,checkout_date,total_price,currency,booking_status",
        "1,10,100,01/01/2024,05/01/2024,1500.00,USD,confirmed",
    )
    with pytest.raises(SourceImportError, match=r"bookings\.csv: missing column 'checkin_date'"):
        import_apartments(settings, tmp_path)
    assert source_db.is_empty(settings)


def test_columns_in_any_order_extra_columns_and_vehicle_files(clean_source, tmp_path):
    settings = clean_source
    write(
        tmp_path,
        "user_viewing.csv",
        "Call_To_Action, viewed_at ,apartment_id,USER_ID,is_wishlisted,session_id",
        "Shortlisted,23/01/2023,180678,5353,true,abc",
        "Reported,2023-01-24,180678,5353,0,def",
    )
    write(tmp_path, "vehicles.csv", "vehicle_id,brand", "1,Toyota")
    write(tmp_path, "location.csv", "location_id,location_name", "1,Airport")

    summary = import_apartments(settings, tmp_path)

    views = summary.for_table("user_viewing")[0]
    assert views.rows_upserted == 2
    assert views.extra_columns == ("session_id",)
    assert {f.path.name: f.skipped_reason for f in summary.skipped} == {
        "location.csv": NOT_APARTMENTS_DOMAIN,
        "vehicles.csv": NOT_APARTMENTS_DOMAIN,
    }
    assert query(settings, "select viewed_at, is_wishlisted, call_to_action from user_viewing"
                 " order by viewed_at") == [
        (datetime(2023, 1, 23), 1, "Shortlisted"),
        (datetime(2023, 1, 24), 0, "Reported"),
    ]  # fmt: skip


def test_apartment_attributes_file_is_not_taken_for_apartments(clean_source, tmp_path):
    settings = clean_source
    header = (
        "id,category,body,amenities,bathrooms,bedrooms,fee,has_photo,pets_allowed,price_display,"
        "price_type,square_feet,address,cityname,state,latitude,longitude"
    )
    write(
        tmp_path,
        "apartment_attributes.csv",
        header,
        '7,Studio,Nice.,"Gym, Pool",1,1,50.5,True,,$1000.00,Monthly,500,"1 Main St, NY 10001",'
        "Austin,Texas,-12.5,179.999999",
    )
    summary = import_apartments(settings, tmp_path)
    assert [(f.path.name, f.table) for f in summary.files] == [
        ("apartment_attributes.csv", "apartment_attributes")
    ]
    assert query(
        settings, "select pets_allowed, amenities, latitude, longitude from apartment_attributes"
    ) == [(None, "Gym, Pool", Decimal("-12.500000"), Decimal("179.999999"))]
    assert source_db.table_counts(settings)["apartments"] == 0


def test_not_a_directory(clean_source, tmp_path):
    with pytest.raises(SourceImportError, match="not a directory"):
        import_apartments(clean_source, tmp_path / "nope")
