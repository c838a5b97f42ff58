"""Importing lab-format CSVs into the real local MariaDB (`rental_db`); the rows not
imported (rejected, superseded) recorded in the real local warehouse's raw_data.rejects."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import subprocess
import sys
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from rental_analytics.local import source_db
from rental_analytics.local.importer import (
    NOT_APARTMENTS_DOMAIN,
    SourceImportError,
    import_apartments,
    import_directory,
    rejects_dir,
)
from rental_analytics.sources.tables import get_table

LAB_SAMPLES = Path(__file__).resolve().parents[3] / "shared/datasets/rental-marketplace-lab-samples"
BAD_INPUT = Path(__file__).resolve().parents[1] / "fixtures" / "bad_input" / "apartments"

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
    assert "the later line with the same primary key won" in result.describe()
    assert "3 read = 2 upserted (2 new, 0 changed) + 0 unchanged + 1 superseded + 0 rejected" in (
        result.describe()
    )
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


# -- rows not imported are in raw_data.rejects -------------------------------------------


def rejects_of(wh, table: str) -> list[dict]:
    cols, rows = wh.query(
        "select source_table, record_key, rule, reason, batch_id, raw_row, row_hash, rejected_at"
        " from raw_data.rejects where source_table = %(t)s",
        {"t": table},
    )
    return [dict(zip(cols, r, strict=True)) for r in rows]


def reject_at(rejects: list[dict], file_name: str, line: int) -> dict:
    found = [
        r
        for r in rejects
        if json.loads(r["raw_row"])["source_file"] == file_name
        and json.loads(r["raw_row"])["line_number"] == line
    ]
    assert len(found) == 1, f"{file_name} line {line}: in {len(found)} rejects"
    return found[0]


def source_row(settings, table: str, values: dict[str, str | None]) -> dict | None:
    spec = get_table(table)
    where = " and ".join(f"`{k}` = %s" for k in spec.primary_key)
    conn = source_db.connect(settings)
    try:
        with conn.cursor() as cur:
            cur.execute(
                f"select {', '.join(spec.column_names)} from `{table}` where {where}",
                [values[k] for k in spec.primary_key],
            )
            rows = cur.fetchall()
    finally:
        conn.close()
    assert len(rows) <= 1
    if not rows:
        return None
    return {
        c: None if v is None else str(v) for c, v in zip(spec.column_names, rows[0], strict=True)
    }


def test_every_line_of_the_bad_input_corpus_is_imported_or_in_raw_data_rejects(
    clean_source, warehouse
):
    """tests/fixtures/bad_input/apartments: per file, per line, where it went (expected.json,
    written by hand): the source table with these values, or raw_data.rejects with this
    rule, a reason and its raw record."""
    settings = clean_source
    expected = json.loads((BAD_INPUT / "expected.json").read_text(encoding="utf-8"))
    summary = import_directory(settings, BAD_INPUT)

    assert sorted(f.path.name for f in summary.files) == sorted(expected)
    for name, cases in expected.items():
        result = next(f for f in summary.files if f.path.name == name)
        table = str(result.table)
        lines = (BAD_INPUT / name).read_text(encoding="utf-8").splitlines()
        header = lines[0].split(",")
        assert [c["line"] for c in cases] == list(range(2, len(lines) + 1)), name
        loaded = [c for c in cases if c["outcome"] == "loaded"]
        rejected = [c for c in cases if c["outcome"] == "rejected"]
        superseded = [c for c in rejected if c["rule"].startswith("IsPrimaryKey")]

        # The summary reconciles, and says where the rows not imported are.
        assert result.rows_read == len(cases), name
        assert result.rows_inserted == result.rows_upserted == len(loaded), name
        assert result.duplicate_keys == len(superseded), name
        assert result.rows_rejected == len(rejected) - len(superseded), name
        assert result.rows_read == (
            result.rows_inserted + result.rows_updated + result.rows_unchanged
            + result.duplicate_keys + result.rows_rejected
        )  # fmt: skip
        assert result.rejects_recorded == len(rejected), name
        assert (
            f"{len(cases)} read = {len(loaded)} upserted ({len(loaded)} new, 0 changed) + "
            f"0 unchanged + {len(superseded)} superseded + {result.rows_rejected} rejected"
        ) in result.describe()
        assert f"raw_data.rejects, batch_id {result.rejects_batch_id}" in result.describe()
        assert source_db.table_counts(settings)[table] == len(loaded), name

        rejects = rejects_of(warehouse, table)
        assert len(rejects) == len(rejected), name
        for case in loaded:
            values = case["values"]
            assert source_row(settings, table, values) == values, f"{name} line {case['line']}"
        for case in rejected:
            where = f"{name} line {case['line']}"
            reject = reject_at(rejects, name, case["line"])
            assert reject["rule"] == case["rule"], where
            assert reject["record_key"] == case["record_key"], where
            assert reject["reason"], where
            assert reject["batch_id"] == result.rejects_batch_id, where
            assert len(reject["batch_id"]) <= 64
            raw = json.loads(reject["raw_row"])
            text = lines[case["line"] - 1]
            if case["rule"] == "WellFormedRecord":
                assert raw["record"] == text, where
            else:  # the raw fields, unchanged: non-ASCII text and SQL-looking text intact
                fields = next(csv.reader([text]))
                assert {k: raw[k] for k in header} == dict(zip(header, fields, strict=True))
            assert (
                reject["row_hash"]
                == hashlib.md5((reject["raw_row"] + "\x1f" + reject["rule"]).encode()).hexdigest()
            )
            if case["rule"].startswith("IsPrimaryKey"):
                assert f"{name}: line {case['line']} superseded by line" in reject["reason"]

        # The rejects file lists the rejected lines (not the superseded ones).
        if result.rows_rejected:
            with open(str(result.reject_file), newline="", encoding="utf-8") as fh:
                listed = [int(r["line_number"]) for r in csv.DictReader(fh)]
            assert listed == [c["line"] for c in rejected if c not in superseded], name

    # Each file's rows not imported are a batch of the load ledger (a warehouse rule wants
    # every batch of raw_data.rejects there), counting each of them once.
    _, ledger = warehouse.query(
        "select source_table, batch_id, rows_extracted, rows_loaded, rows_rejected"
        " from raw_data.load_batches order by 1"
    )
    assert ledger == sorted(
        (f.table, f.rejects_batch_id, f.rows_not_imported, 0, f.rows_not_imported)
        for f in summary.files
    )
    _, orphans = warehouse.query(
        "select count(*) from raw_data.rejects r where not exists (select 1 from"
        " raw_data.load_batches b where b.batch_id = r.batch_id)"
    )
    assert orphans == [(0,)]

    # SQL-looking text is data: every table is still there, with its rows.
    assert query(settings, "select title from apartments where id = 3") == [
        ("Robert'); drop table apartments; --",)
    ]


def test_importing_the_same_bad_file_again_records_no_reject_twice(clean_source, warehouse):
    settings = clean_source
    first = import_directory(settings, BAD_INPUT)
    _, before = warehouse.query(
        "select source_table, count(*) from raw_data.rejects group by 1 order by 1"
    )
    again = import_directory(settings, BAD_INPUT)
    _, after = warehouse.query(
        "select source_table, count(*) from raw_data.rejects group by 1 order by 1"
    )

    assert after == before
    assert sum(n for _, n in after) == sum(f.rows_not_imported for f in first.files)
    assert [f.rejects_batch_id for f in again.files] == [f.rejects_batch_id for f in first.files]
    _, ledger = warehouse.query("select count(*), sum(rows_rejected) from raw_data.load_batches")
    assert ledger == [(len(first.files), sum(n for _, n in after))]
    for result in again.files:
        assert result.rejects_recorded == 0
        assert result.rows_inserted == result.rows_updated == 0
        assert result.rows_unchanged == result.rows_upserted
        assert f"({result.rows_not_imported} recorded by an earlier import)" in (result.describe())


def test_oversized_and_nul_values_fit_the_rejects_table(clean_source, warehouse, tmp_path):
    """raw_data.rejects has bounded columns: an oversized record is recorded cut (still
    JSON, saying so), a NUL (which PostgreSQL text cannot hold) escaped; a NUL in a text
    value is rejected, as the warehouse could not load it."""
    settings = clean_source
    header = (
        "id,category,body,amenities,bathrooms,bedrooms,fee,has_photo,pets_allowed,"
        "price_display,price_type,square_feet,address,cityname,state,latitude,longitude"
    )
    body = "ß" * 40_000  # 80,000 bytes: too long for a TEXT column of 65,535 bytes
    write(
        tmp_path,
        "apartment_attributes.csv",
        header,
        f"1,cat,{body}" + "," * 14,
        "2\x00,cat,body" + "," * 14,
        "3,cat,body" + "," * 14 + "9" * 100_000,
        "4,c\x00t,body" + "," * 14,
    )
    result = import_apartments(settings, tmp_path).for_table("apartment_attributes")[0]
    assert (result.rows_read, result.rows_rejected, result.rejects_recorded) == (4, 4, 4)

    rejects = rejects_of(warehouse, "apartment_attributes")
    by_line = {json.loads(r["raw_row"])["line_number"]: r for r in rejects}
    assert by_line[2]["rule"] == 'ColumnLength "body" <= 65535'
    raw = json.loads(by_line[2]["raw_row"])
    assert raw["body"].startswith("ßßß") and raw["body"].endswith("[40000 characters]")
    assert len(by_line[2]["raw_row"].encode()) <= 65535
    assert by_line[3]["rule"] == 'ColumnDataType "id" = "INTEGER"'
    assert by_line[3]["record_key"] == "2\\0"
    assert json.loads(by_line[3]["raw_row"])["id"] == "2\x00"
    assert by_line[4]["rule"] == 'ColumnDataType "longitude" = "DECIMAL"'
    assert len(by_line[4]["reason"].encode()) <= 4096
    # A NUL in text would fail the pipeline's load into the warehouse: rejected here.
    assert by_line[5]["rule"] == 'ColumnDataType "category" = "STRING"'
    assert json.loads(by_line[5]["raw_row"])["category"] == "c\x00t"


def test_cli_import_reports_the_reconciliation_and_raw_data_rejects(
    clean_source, warehouse, env_home
):
    proc = subprocess.run(
        [sys.executable, "-m", "rental_analytics.cli", "source", "import", str(BAD_INPUT)],
        env={**os.environ, "RENTALS_HOME": str(env_home)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    expected = json.loads((BAD_INPUT / "expected.json").read_text(encoding="utf-8"))
    bookings = expected["bookings.csv"]
    loaded = sum(c["outcome"] == "loaded" for c in bookings)
    assert (
        f"bookings.csv -> bookings: {len(bookings)} read = {loaded} upserted ({loaded} new,"
        " 0 changed) + 0 unchanged"
    ) in " ".join(proc.stderr.split())
    assert "recorded with their rule and reason in raw_data.rejects" in proc.stderr
    _, rows = warehouse.query("select count(*) from raw_data.rejects")
    assert rows[0][0] == sum(
        c["outcome"] == "rejected" for cases in expected.values() for c in cases
    )
