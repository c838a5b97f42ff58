"""The synthetic vehicle-rental landing files: format, determinism, counts and dirt."""

from __future__ import annotations

import csv
import re
import time
from collections import Counter, defaultdict
from datetime import date, datetime
from pathlib import Path

import pytest

from rental_analytics.local.generator_vehicles import (
    NEGATIVE_AMOUNT_SHARE,
    NON_POSITIVE_DURATION_SHARE,
    UNKNOWN_USER_SHARE,
    UNKNOWN_VEHICLE_SHARE,
    VEHICLE_LAB_COUNTS,
    VEHICLE_OLD_VERSION_SHARE,
    planned_vehicle_counts,
    write_vehicle_csvs,
)
from tests.support.kpi_reference_vehicles import load_landing

# The lab layouts (SPEC section 2), written out here rather than taken from the module.
HEADERS = {
    "vehicles": [
        "active", "vehicle_license_number", "registration_name", "license_type",
        "expiration_date", "permit_license_number", "certification_date", "vehicle_year",
        "base_telephone_number", "base_address", "vehicle_id", "last_update_timestamp",
        "brand", "vehicle_type",
    ],
    "locations": [
        "location_id", "location_name", "address", "city", "state", "zip_code", "latitude",
        "longitude",
    ],
    "rental_users": [
        "user_id", "first_name", "last_name", "email", "phone_number", "driver_license_number",
        "driver_license_expiry", "creation_date", "is_active",
    ],
    "rental_transactions": [
        "rental_id", "user_id", "vehicle_id", "rental_start_time", "rental_end_time",
        "pickup_location", "dropoff_location", "total_amount",
    ],
}  # fmt: skip
FILE_NAMES = {
    "vehicles": "vehicles.csv",
    "locations": "locations.csv",
    "rental_users": "users.csv",
    "rental_transactions": "rental_transactions.csv",
}
HEX_ID = re.compile(r"[0-9a-f]{10}")
YMD = "%Y-%m-%d"
YMD_HMS = "%Y-%m-%d %H:%M:%S"
DMY = "%d-%m-%Y"
DMY_HMS = "%d-%m-%Y %H:%M:%S"
SCALE = 0.1  # 11,000 vehicles, 2,000 transactions: enough rows for the shares


def read(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    header, body = rows[0], rows[1:]
    assert all(len(r) == len(header) for r in body), f"{path.name}: ragged rows"
    return header, [dict(zip(header, r, strict=True)) for r in body]


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> dict[str, list[dict[str, str]]]:
    out = tmp_path_factory.mktemp("vehicles")
    files = write_vehicle_csvs(out, SCALE, seed=11)
    return {table: read(path)[1] for table, path in files.items()}


def share_ok(observed: int, rows: int, share: float) -> bool:
    return abs(observed / rows - share) <= 0.1 * share + 1 / rows


def ts(text: str, fmt: str = YMD_HMS) -> datetime:
    return datetime.strptime(text, fmt)


# -- counts, files, determinism ------------------------------------------------------------


def test_planned_counts():
    assert (
        planned_vehicle_counts(1)
        == VEHICLE_LAB_COUNTS
        == {
            "vehicles": 110_000,
            "locations": 300,
            "rental_users": 30_000,
            "rental_transactions": 20_000,
        }
    )
    assert planned_vehicle_counts(0.01) == {
        "vehicles": 1_100,
        "locations": 10,
        "rental_users": 300,
        "rental_transactions": 200,
    }
    assert all(n >= 10 for n in planned_vehicle_counts(1e-6).values())
    for bad in (0, -1):
        with pytest.raises(ValueError):
            planned_vehicle_counts(bad)


def test_files_headers_and_counts(tmp_path):
    files = write_vehicle_csvs(tmp_path, 0.01, seed=3)
    assert set(files) == set(FILE_NAMES)
    planned = planned_vehicle_counts(0.01)
    for table, path in files.items():
        assert path == tmp_path / FILE_NAMES[table]
        header, rows = read(path)
        assert header == HEADERS[table]
        assert len(rows) == planned[table]


def test_same_arguments_give_the_same_bytes(tmp_path):
    a = write_vehicle_csvs(tmp_path / "a", 0.01, seed=5)
    b = write_vehicle_csvs(tmp_path / "b", 0.01, seed=5)
    c = write_vehicle_csvs(tmp_path / "c", 0.01, seed=6)
    for table in a:
        assert a[table].read_bytes() == b[table].read_bytes()
        assert a[table].read_bytes() != c[table].read_bytes()


def test_bad_seed(tmp_path):
    with pytest.raises(ValueError):
        write_vehicle_csvs(tmp_path, 0.01, seed=-1)


def test_scale_one_is_lab_sized_and_fast(tmp_path):
    started = time.monotonic()
    files = write_vehicle_csvs(tmp_path, 1, seed=42)
    assert time.monotonic() - started < 20
    for table, n in (("vehicles", 110_000), ("rental_transactions", 20_000)):
        with open(files[table], newline="", encoding="utf-8") as fh:
            assert sum(1 for _ in csv.reader(fh)) == n + 1


# -- lab format ----------------------------------------------------------------------------


def test_ids_are_lab_shaped(generated):
    for table, column in (
        ("vehicles", "vehicle_id"),
        ("rental_users", "user_id"),
        ("rental_transactions", "rental_id"),
        ("rental_transactions", "user_id"),
        ("rental_transactions", "vehicle_id"),
    ):
        assert all(HEX_ID.fullmatch(r[column]) for r in generated[table]), (table, column)
    for table, column in (("rental_users", "user_id"), ("rental_transactions", "rental_id")):
        values = [r[column] for r in generated[table]]
        assert len(set(values)) == len(values), (table, column)
    location_ids = [r["location_id"] for r in generated["locations"]]
    assert all(re.fullmatch(r"[1-9]\d{3}", x) for x in location_ids)
    assert len(set(location_ids)) == len(location_ids)


def test_vehicles_format(generated):
    rows = generated["vehicles"]
    for r in rows:
        assert r["active"] in ("0", "1")
        assert r["vehicle_license_number"].isdigit()
        assert r["license_type"] == "FOR HIRE VEHICLE"
        ts(r["expiration_date"], DMY)
        ts(r["certification_date"], YMD)
        ts(r["last_update_timestamp"], DMY_HMS)
        assert re.fullmatch(r"[0-9A-Z]{8}", r["permit_license_number"])
        assert re.fullmatch(r"\(\d{3}\)\d{3}-\d{4}", r["base_telephone_number"])
        assert 2000 <= int(r["vehicle_year"]) <= 2024
        assert r["vehicle_type"] in ("basic", "premium", "high_end")
    assert any("," in r["registration_name"] for r in rows)
    assert any("," in r["base_address"] for r in rows)
    brands = {r["brand"] for r in rows}
    assert {"Ferrari", "BMW", "Toyota", "Chevrolet", "Tesla"} <= brands


def test_users_and_locations_format(generated):
    for r in generated["rental_users"]:
        ts(r["driver_license_expiry"], YMD)
        assert date(2024, 1, 1) <= ts(r["creation_date"], YMD).date() <= date(2024, 5, 31)
        assert r["is_active"] in ("0", "1")
        assert "@" in r["email"]
    zips = [r["zip_code"] for r in generated["locations"]]
    assert all(re.fullmatch(r"\d{5}", z) for z in zips)
    assert any(z.startswith("0") for z in zips)
    for r in generated["locations"]:
        assert -90 <= float(r["latitude"]) <= 90
        assert -180 <= float(r["longitude"]) <= 180


def test_transactions_format(generated):
    locations = {r["location_id"] for r in generated["locations"]}
    for r in generated["rental_transactions"]:
        start = ts(r["rental_start_time"])
        ts(r["rental_end_time"])
        assert date(2024, 1, 1) <= start.date() <= date(2024, 5, 31)
        assert r["pickup_location"] in locations and r["dropoff_location"] in locations
        assert r["pickup_location"] != r["dropoff_location"]
        assert re.fullmatch(r"-?\d+\.\d{1,2}", r["total_amount"])


# -- dirt ----------------------------------------------------------------------------------


def test_older_vehicle_versions(generated):
    rows = generated["vehicles"]
    versions = defaultdict(list)
    for position, r in enumerate(rows):
        versions[r["vehicle_id"]].append((position, r))
    duplicated = {v: rs for v, rs in versions.items() if len(rs) > 1}
    assert share_ok(len(rows) - len(versions), len(rows), VEHICLE_OLD_VERSION_SHARE)
    changed = older_last = 0
    for rs in duplicated.values():
        stamps = [ts(r["last_update_timestamp"], DMY_HMS) for _, r in rs]
        assert len(set(stamps)) == len(stamps)
        latest = max(range(len(rs)), key=lambda i: stamps[i])
        changed += any(r["vehicle_type"] != rs[latest][1]["vehicle_type"] for _, r in rs)
        older_last += latest != len(rs) - 1  # the newest is not the last line
    assert 0 < changed < len(duplicated)
    assert older_last > 0


def test_transaction_dirt_shares(generated):
    rows = generated["rental_transactions"]
    n = len(rows)
    vehicles = {r["vehicle_id"] for r in generated["vehicles"]}
    users = {r["user_id"] for r in generated["rental_users"]}
    unknown_vehicle = sum(r["vehicle_id"] not in vehicles for r in rows)
    unknown_user = sum(r["user_id"] not in users for r in rows)
    durations = [ts(r["rental_end_time"]) - ts(r["rental_start_time"]) for r in rows]
    non_positive = sum(d.total_seconds() <= 0 for d in durations)
    negative = sum(r["total_amount"].startswith("-") for r in rows)
    assert share_ok(unknown_vehicle, n, UNKNOWN_VEHICLE_SHARE)
    assert share_ok(unknown_user, n, UNKNOWN_USER_SHARE)
    assert share_ok(non_positive, n, NON_POSITIVE_DURATION_SHARE)
    assert share_ok(negative, n, NEGATIVE_AMOUNT_SHARE)

    positive = [d for d in durations if d.total_seconds() > 0]
    with_minutes = sum(d.total_seconds() % 3600 != 0 for d in positive)
    assert 0.25 <= with_minutes / len(positive) <= 0.35
    assert all(d.total_seconds() <= 73 * 3600 for d in positive)
    spans = [
        (ts(r["rental_start_time"]), ts(r["rental_end_time"]))
        for r, d in zip(rows, durations, strict=True)
        if d.total_seconds() > 0
    ]
    assert any(s.date() != e.date() for s, e in spans)  # across midnight
    assert any(s.month != e.month for s, e in spans)  # across a month end


def test_amounts_follow_duration_and_type(generated):
    """Clean rentals of known vehicles cost 10 / 20 / 50 per hour by the vehicle's type."""
    latest = {}
    for r in generated["vehicles"]:
        stamp = ts(r["last_update_timestamp"], DMY_HMS)
        if r["vehicle_id"] not in latest or stamp > latest[r["vehicle_id"]][0]:
            latest[r["vehicle_id"]] = (stamp, r["vehicle_type"])
    rates = {"basic": 10, "premium": 20, "high_end": 50}
    checked = 0
    for r in generated["rental_transactions"]:
        seconds = (ts(r["rental_end_time"]) - ts(r["rental_start_time"])).total_seconds()
        amount = float(r["total_amount"])
        if r["vehicle_id"] in latest and seconds > 0 and amount >= 0:
            expected = rates[latest[r["vehicle_id"]][1]] * seconds / 3600
            assert abs(amount - expected) <= 0.005 + 1e-9, r
            checked += 1
    assert checked > 1_900


def test_every_kind_of_dirt_at_a_tiny_scale(tmp_path):
    files = write_vehicle_csvs(tmp_path, 1e-6, seed=1)
    tables = {t: read(p)[1] for t, p in files.items()}
    assert all(len(rows) >= 10 for rows in tables.values())
    vehicles = Counter(r["vehicle_id"] for r in tables["vehicles"])
    assert max(vehicles.values()) > 1
    users = {r["user_id"] for r in tables["rental_users"]}
    rows = tables["rental_transactions"]
    assert any(r["vehicle_id"] not in vehicles for r in rows)
    assert any(r["user_id"] not in users for r in rows)
    assert any(r["rental_end_time"] <= r["rental_start_time"] for r in rows)
    assert any(r["total_amount"].startswith("-") for r in rows)
    assert any(r["rental_start_time"][5:7] != r["rental_end_time"][5:7] for r in rows)


def test_reference_reads_every_generated_row(tmp_path):
    """The independent reference parses every generated row; the fact keeps all but the
    non-positive durations and negative amounts."""
    write_vehicle_csvs(tmp_path, 0.01, seed=9)
    data = load_landing([tmp_path])
    assert all(n == 0 for n in data.rows_dropped.values())
    n = planned_vehicle_counts(0.01)["rental_transactions"]
    bad = max(1, round(n * NON_POSITIVE_DURATION_SHARE)) + max(1, round(n * NEGATIVE_AMOUNT_SHARE))
    assert data.stats().valid_transactions == n - bad
    assert len(data.vehicles) < planned_vehicle_counts(0.01)["vehicles"]
