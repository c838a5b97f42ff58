"""Schema drift through the real extraction: MariaDB tables altered under the extract job
(added, dropped and retyped columns) and landed files with extra columns. Drift that fails
leaves nothing written and the bookmarks where they were; the rerun after the fix commits
the same batch."""

from __future__ import annotations

import dataclasses
from datetime import date
from pathlib import Path

import pytest

from rental_analytics.local import source_db
from rental_analytics.sources.bookmarks import BookmarkStore
from rental_analytics.sources.extract import ExtractError, JdbcReader, extract_domain
from rental_analytics.sources.landing import LandingReader
from rental_analytics.sources.tables import APARTMENTS, APARTMENTS_TABLES
from rental_analytics.storage import LocalLanding

D1, D2 = date(2024, 3, 10), date(2024, 3, 11)
SEED = (
    "insert into apartments values (1,'a','Zillow',100.50,'USD','2024-01-01',1,'2024-02-01')",
    "insert into apartment_attributes (id, bathrooms, cityname) values (1, 2, 'Austin')",
    "insert into bookings values (1,5,1,'2024-03-01','2024-03-05','2024-03-08',300,'USD',"
    "'confirmed')",
    "insert into user_viewing values (5,1,'2024-03-01',1,'Shortlisted')",
)


def source(settings, *statements):
    with source_db.connect(settings) as conn, conn.cursor() as cur:
        for st in statements:
            cur.execute(st)
        conn.commit()


@pytest.fixture
def env(clean_source, tmp_path):
    """A seeded source, a lake and bookmarks of this test's own, and the source tables put
    back as rental_db.sql creates them afterwards, whatever the test altered."""
    settings = dataclasses.replace(
        clean_source,
        lake_root=str(tmp_path / "lake"),
        bookmarks_root=str(tmp_path / "bookmarks"),
        landing_root=str(tmp_path / "landing"),
    )
    source(settings, *SEED)
    yield settings
    source(settings, *(f"drop table if exists `{t.name}`" for t in APARTMENTS_TABLES))
    source_db.ensure_schema(settings)


def extract(spark, settings, run_date):
    return extract_domain(settings, "apartments", run_date, JdbcReader(spark, settings))


def batch_written(settings, domain, run_date) -> bool:
    return any((Path(settings.lake_root) / "raw" / domain).glob(f"*/run_date={run_date}"))


def assert_nothing_committed(settings, domain, before, run_date):
    store = BookmarkStore(settings.bookmarks_root, domain)
    assert store.path.read_text() == before  # bookmarks and committed batches unchanged
    assert not batch_written(settings, domain, run_date.isoformat())


def test_added_column_is_noted_and_left_out(spark, env):
    extract(spark, env, D1)
    source(
        env,
        "alter table apartments add column colour varchar(16) default 'red'",
        "alter table bookings add column channel varchar(16), add column fee int",
        "update apartments set last_modified_timestamp = '2024-03-11' where id = 1",
    )
    result = extract(spark, env, D2)
    assert result.committed
    notes = {t.table: t.notes for t in result.tables}
    assert notes == {
        "apartments": ["added source columns ignored: colour"],
        "apartment_attributes": [],
        "bookings": ["added source columns ignored: channel, fee"],
        "user_viewing": [],
    }
    apartments = next(t for t in result.tables if t.table == "apartments")
    assert tuple(spark.read.parquet(apartments.path).columns) == APARTMENTS.column_names


def test_added_column_fails_when_configured(spark, env):
    extract(spark, env, D1)
    before = BookmarkStore(env.bookmarks_root, "apartments").path.read_text()
    source(env, "alter table user_viewing add column device varchar(16)")
    strict = dataclasses.replace(env, schema_drift="fail")
    with pytest.raises(
        ExtractError,
        match=r"^apartments\.user_viewing: added source column not in the table spec: device ",
    ):
        extract(spark, strict, D2)
    assert_nothing_committed(env, "apartments", before, D2)
    # Reported but not fatal under the default policy: the same run goes through.
    assert extract(spark, env, D2).batch_id == "2024-03-11-01"


@pytest.mark.parametrize("policy", ["ignore", "fail"])
def test_missing_column_fails_and_the_rerun_after_the_fix_commits(spark, env, policy):
    extract(spark, env, D1)
    before = BookmarkStore(env.bookmarks_root, "apartments").path.read_text()
    source(env, "alter table bookings drop column checkin_date")
    with pytest.raises(
        ExtractError,
        match=r"^apartments\.bookings: source column 'checkin_date' is missing "
        r"\(required by the table spec\)$",
    ):
        extract(spark, dataclasses.replace(env, schema_drift=policy), D2)
    assert_nothing_committed(env, "apartments", before, D2)

    source(env, "alter table bookings add column checkin_date date after booking_date")
    retry = extract(spark, env, D2)
    assert retry.committed and retry.batch_id == "2024-03-11-01"


@pytest.mark.parametrize(
    ("alter", "message"),
    [
        (
            "alter table bookings modify checkin_date varchar(32)",
            "apartments.bookings: source column 'checkin_date' has type varchar(32), which "
            "cannot be read losslessly as the spec's date",
        ),
        (
            "alter table apartments modify price decimal(14,2)",
            "apartments.apartments: source column 'price' has type decimal(14,2), which "
            "cannot be read losslessly as the spec's decimal(10,2)",
        ),
        (
            "alter table apartment_attributes modify bathrooms varchar(8)",
            "apartments.apartment_attributes: source column 'bathrooms' has type varchar(8), "
            "which cannot be read losslessly as the spec's int",
        ),
        (
            "alter table user_viewing modify user_id bigint",
            "apartments.user_viewing: source column 'user_id' has type bigint(20), which "
            "cannot be read losslessly as the spec's int",
        ),
    ],
)
def test_incompatible_type_fails_naming_table_and_column(spark, env, alter, message):
    extract(spark, env, D1)
    before = BookmarkStore(env.bookmarks_root, "apartments").path.read_text()
    source(env, alter)
    with pytest.raises(ExtractError) as failure:
        extract(spark, env, D2)
    assert str(failure.value) == message
    assert_nothing_committed(env, "apartments", before, D2)


def test_compatible_type_change_is_accepted(spark, env):
    source(
        env,
        "alter table apartments modify price decimal(9,2)",  # narrower: every value fits
        "alter table bookings modify user_id mediumint unsigned",
        "alter table user_viewing modify viewed_at datetime(6) not null",
    )
    result = extract(spark, env, D1)
    assert result.committed
    assert {t.table: t.notes for t in result.tables if t.notes} == {}


# -- landed files -----------------------------------------------------------------------------
USERS_HEADER = (
    "user_id,first_name,last_name,email,phone_number,driver_license_number,"
    "driver_license_expiry,creation_date,is_active"
)


def land(settings, key: str, text: str) -> Path:
    path = Path(settings.landing_root) / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def extract_landed(spark, settings, run_date):
    reader = LandingReader(spark, LocalLanding(settings.landing_root))
    return extract_domain(settings, "vehicle_rentals", run_date, reader)


def test_landed_extra_column_fails_when_configured(spark, env):
    land(env, "users/import-0001/users.csv", USERS_HEADER + "\nu1,A,B,,,,,,1\n")
    extract_landed(spark, env, D1)
    before = BookmarkStore(env.bookmarks_root, "vehicle_rentals").path.read_text()
    land(env, "users/import-0002/users.csv", USERS_HEADER + ",loyalty_tier\nu2,C,D,,,,,,0,gold\n")
    # tables checked before any is written: a good new file of another table waits too
    land(env, "locations/import-0002/locations.csv",
         "location_id,location_name,address,city,state,zip_code,latitude,longitude\n"
         "1,A,x,Fresno,CA,01234,1.5,2.5\n")  # fmt: skip
    strict = dataclasses.replace(env, schema_drift="fail")
    with pytest.raises(
        ExtractError,
        match=r"^vehicle_rentals\.rental_users: users/import-0002/users.csv: added source column "
        r"not in the table spec: loyalty_tier ",
    ):
        extract_landed(spark, strict, D2)
    assert_nothing_committed(env, "vehicle_rentals", before, D2)

    result = extract_landed(spark, env, D2)  # the default policy notes it and goes on
    users = next(t for t in result.tables if t.table == "rental_users")
    assert users.rows == 1
    assert users.notes == ["users/import-0002/users.csv: extra columns ignored: loyalty_tier"]


def test_landed_missing_column_names_table_file_and_column(spark, env):
    land(env, "users/u.csv", "user_id,first_name,email\nu1,A,a@x\n")
    with pytest.raises(
        ExtractError,
        match=r"rental_users: users/u.csv: missing columns 'last_name', 'phone_number'",
    ):
        extract_landed(spark, env, D1)
    assert not BookmarkStore(env.bookmarks_root, "vehicle_rentals").path.exists()
    assert not batch_written(env, "vehicle_rentals", D1.isoformat())
