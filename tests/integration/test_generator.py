"""The synthetic apartments-domain data: counts, determinism and the dirt it must carry."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest

from rental_analytics.local import source_db
from rental_analytics.local.generator import COLUMNS, generate, planned_counts, write_csvs
from rental_analytics.local.generator_vehicles import planned_vehicle_counts

SCALE = 0.002
LAB_SAMPLES = Path(__file__).resolve().parents[3] / "shared/datasets/rental-marketplace-lab-samples"


@pytest.fixture
def generated(clean_source, tmp_path):
    summary = generate(clean_source, scale=SCALE, seed=7, out_dir=tmp_path / "out")
    return clean_source, summary


def scalar(settings, sql: str):
    conn = source_db.connect(settings)
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
            return cur.fetchone()[0]
    finally:
        conn.close()


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_counts_follow_the_scale(generated):
    settings, summary = generated
    planned = planned_counts(SCALE)
    assert (planned.apartments, planned.user_viewing, planned.bookings) == (400, 600, 1000)
    assert planned.users == 20
    expected = {
        "apartments": 400,
        "apartment_attributes": 400 - planned.missing_attributes + planned.orphan_attributes,
        "bookings": 1000,
        "user_viewing": 600,
    }
    landed = planned_vehicle_counts(SCALE)
    assert summary.rows_written == {**expected, **landed}
    assert source_db.table_counts(settings) == expected
    assert summary.import_summary.rows_rejected == 0
    for table, path in summary.files.items():
        if table in expected:
            assert path.parent == summary.out_dir
            assert len(read_csv(path)) == expected[table]
        else:  # the vehicle domain lands as files
            assert path.parent == summary.out_dir.parent / "vehicle_rentals"
            assert len(read_csv(path)) == landed[table]
    landed_files = [f for f in summary.import_summary.files if f.landed_as or f.already_landed]
    assert {f.table for f in landed_files} == set(landed)


def test_scale_one_counts_and_tiny_scales():
    one = planned_counts(1)
    assert (one.apartments, one.user_viewing, one.bookings, one.users) == (
        200_000,
        300_000,
        500_000,
        10_000,
    )
    assert one.missing_attributes == 1000  # 0.5% of listings without attributes
    tiny = planned_counts(1e-6)
    assert min(tiny.rows().values()) >= 10 and tiny.users == 20
    with pytest.raises(ValueError, match="scale must be positive"):
        planned_counts(0)


def test_negative_seed_is_refused(tmp_path):
    with pytest.raises(ValueError, match="seed must be a non-negative integer"):
        write_csvs(tmp_path, SCALE, -1)


def test_lab_format(tmp_path):
    files, _ = write_csvs(tmp_path, SCALE, 7)
    for table, path in files.items():
        header = path.read_text(encoding="utf-8").split("\n", 1)[0]
        assert header == ",".join(COLUMNS[table])
        sample = LAB_SAMPLES / f"{table}.sample.csv"
        if sample.exists():
            assert header == sample.read_text().split("\n", 1)[0]
    apartments = read_csv(files["apartments"])
    for row in apartments:
        day, month, year = row["listing_created_on"].split("/")
        assert date(int(year), int(month), int(day))
        assert len(row["last_modified_timestamp"]) == 10  # date only, like the lab export
        assert row["is_active"] in ("True", "False")
        assert 1000 < float(row["price"]) < 5000
    assert {r["currency"] for r in apartments} == {"EUR", "INR", "USD"}
    assert {r["source"] for r in apartments} == {
        "Airbnb", "Apartments.com", "Craigslist", "Realtor", "Zillow",
    }  # fmt: skip
    attributes = read_csv(files["apartment_attributes"])
    assert {r["pets_allowed"] for r in attributes} == {"", "True", "False"}
    assert {r["category"] for r in attributes} == {"1BHK", "2BHK", "3BHK", "Penthouse", "Studio"}


def test_same_seed_same_bytes_other_seed_other_data(generated, tmp_path):
    _, summary = generated
    again, _ = write_csvs(tmp_path / "again", SCALE, 7)
    other, _ = write_csvs(tmp_path / "other", SCALE, 8)
    for table in again:
        path = summary.files[table]
        assert again[table].read_bytes() == path.read_bytes(), table
        assert other[table].read_bytes() != path.read_bytes(), table


def test_regenerating_with_another_seed_updates_the_same_ids(generated, tmp_path):
    settings, _ = generated
    summary = generate(settings, scale=SCALE, seed=8, out_dir=tmp_path / "seed8")
    bookings = summary.import_summary.for_table("bookings")[0]
    assert bookings.rows_inserted == 0 and bookings.rows_updated > 900
    assert source_db.table_counts(settings)["bookings"] == 1000


def test_listings_and_attributes_do_not_match_one_to_one(generated):
    settings, summary = generated
    planned = planned_counts(SCALE)
    without_attributes = scalar(
        settings,
        "select count(*) from apartments a"
        " where not exists (select 1 from apartment_attributes t where t.id = a.id)",
    )
    orphans = scalar(
        settings,
        "select count(*) from apartment_attributes t"
        " where not exists (select 1 from apartments a where a.id = t.id)",
    )
    assert (without_attributes, orphans) == (
        planned.missing_attributes,
        planned.orphan_attributes,
    )
    null_pets = scalar(settings, "select avg(pets_allowed is null) from apartment_attributes")
    assert 0.55 < null_pets < 0.75


def test_bookings_carry_the_dirt(generated):
    settings, _ = generated
    # Status variants in case and whitespace, all of them one of three statuses.
    assert (
        scalar(
            settings,
            "select count(*) from bookings"
            " where binary booking_status not in ('confirmed', 'pending', 'canceled')",
        )
        > 0
    )
    assert (
        scalar(
            settings,
            "select count(distinct lower(trim(booking_status))) from bookings",
        )
        == 3
    )
    assert scalar(settings, "select count(*) from bookings where booking_status like ' %'") > 0
    # Lab-style random dates: checkout before checkin, about 30% * 1/2 of the rows.
    backwards = scalar(settings, "select avg(checkout_date < checkin_date) from bookings")
    assert 0.08 < backwards < 0.25
    # The realistic majority: checkin 0..90 days after booking, 1..21 nights.
    realistic = scalar(
        settings,
        "select avg(datediff(checkin_date, booking_date) between 0 and 90"
        " and datediff(checkout_date, checkin_date) between 1 and 21) from bookings",
    )
    assert realistic > 0.6
    # Unknown listings (late-arriving or never sent): about 1%.
    unknown = scalar(
        settings,
        "select count(*) from bookings b"
        " where not exists (select 1 from apartments a where a.id = b.apartment_id)",
    )
    assert 1 <= unknown <= 40
    assert scalar(settings, "select count(distinct currency) from bookings") == 3
    # Overlapping stays on one listing.
    assert (
        scalar(
            settings,
            "select count(*) from bookings a join bookings b on a.apartment_id = b.apartment_id"
            " and a.booking_id < b.booking_id and a.checkin_date < b.checkout_date"
            " and b.checkin_date < a.checkout_date"
            " where a.checkout_date > a.checkin_date and b.checkout_date > b.checkin_date",
        )
        > 0
    )
    # Repeat customers: the same user again within 30 days, sometimes the same day.
    assert (
        scalar(
            settings,
            "select count(*) from bookings a join bookings b on a.user_id = b.user_id"
            " and a.booking_id <> b.booking_id"
            " and datediff(b.booking_date, a.booking_date) between 1 and 30",
        )
        > 0
    )
    assert (
        scalar(
            settings,
            "select count(*) from bookings a join bookings b on a.user_id = b.user_id"
            " and a.booking_id < b.booking_id and a.booking_date = b.booking_date",
        )
        > 0
    )


def test_ids_users_and_dates_stay_in_the_lab_ranges(generated):
    settings, _ = generated
    assert scalar(settings, "select min(id) from apartments") == 1
    assert scalar(settings, "select max(id) from apartments") == 400
    assert scalar(settings, "select min(booking_id) from bookings") == 1
    assert scalar(settings, "select max(booking_id) from bookings") == 1000
    for table in ("bookings", "user_viewing"):
        assert scalar(settings, f"select min(user_id) >= 1 and max(user_id) <= 20 from {table}")
    for table, column in [
        ("apartments", "listing_created_on"),
        ("apartments", "last_modified_timestamp"),
        ("bookings", "booking_date"),
        ("bookings", "checkin_date"),
        ("bookings", "checkout_date"),
        ("user_viewing", "viewed_at"),
    ]:
        assert scalar(
            settings,
            f"select min({column}) >= '2020-01-01' and max({column}) < '2025-04-01' from {table}",
        ), (table, column)
    assert (
        scalar(settings, "select count(*) from apartments where time(last_modified_timestamp) <> 0")
        == 0
    )


def test_tiny_scale_still_has_every_kind_of_dirt(tmp_path):
    files, rows = write_csvs(tmp_path, 1e-6, 1)
    assert min(rows.values()) >= 10
    bookings = read_csv(files["bookings"])
    assert any(r["booking_status"] != r["booking_status"].strip().lower() for r in bookings)
    apartments = {r["id"] for r in read_csv(files["apartments"])}
    assert any(r["apartment_id"] not in apartments for r in bookings)
    attributes = {r["id"] for r in read_csv(files["apartment_attributes"])}
    assert apartments - attributes and attributes - apartments
