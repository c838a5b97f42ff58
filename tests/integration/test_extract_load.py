"""Extraction from the real MariaDB into Parquet, and load_raw into the real PostgreSQL:
bookmark semantics, failure leaving bookmarks, idempotent merge, rejects, full refresh."""

from __future__ import annotations

import dataclasses
import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from rental_analytics.jobs.curate import run_curate
from rental_analytics.jobs.load_raw import run_load_raw
from rental_analytics.lake import staged_batch_path
from rental_analytics.local import source_db
from rental_analytics.sources.bookmarks import BookmarkStore
from rental_analytics.sources.extract import ExtractError, JdbcReader, extract_domain
from rental_analytics.transforms.common import spark_schema

D1, D2, D3 = date(2024, 3, 10), date(2024, 3, 11), date(2024, 3, 12)


@pytest.fixture
def env(clean_source, tmp_path, warehouse):
    """Settings with a lake and bookmarks of this test's own, and an empty source."""
    return dataclasses.replace(
        clean_source, lake_root=str(tmp_path / "lake"), bookmarks_root=str(tmp_path / "bookmarks")
    )


def source(settings, *statements):
    with source_db.connect(settings) as conn, conn.cursor() as cur:
        for st in statements:
            cur.execute(st)
        conn.commit()


def extract(spark, s, run_date, **kw):
    return extract_domain(s, "apartments", run_date, JdbcReader(spark, s), **kw)


def rows(result):
    return {t.table: t.rows for t in result.tables}


SEED = (
    "insert into apartments values (1,'a','Zillow',100.50,'USD','2024-01-01',1,'2024-02-01'),"
    "(2,'b','Airbnb',200.00,'EUR','2024-01-05',0,'2024-02-03')",
    "insert into apartment_attributes (id, cityname, state) values (1,'Austin','Texas'),"
    "(2,'Denver','Colorado')",
    "insert into bookings values (1,5,1,'2024-03-01','2024-03-05','2024-03-08',300,'USD','confirmed'),"
    "(2,6,2,'2024-01-02','2024-01-10','2024-01-12',90,'EUR','confirmed')",
    "insert into user_viewing values (5,1,'2024-03-01',1,'Shortlisted'),(6,2,'2024-03-02',0,NULL)",
)


def test_incremental_semantics(spark, env):
    source(env, *SEED)
    first = extract(spark, env, D1)
    assert first.batch_id == "2024-03-10-01" and first.committed
    assert rows(first) == {
        "apartments": 2,
        "apartment_attributes": 2,
        "bookings": 2,
        "user_viewing": 2,
    }

    # Nothing new: only the inclusive re-reads come back (last modified day, last viewed
    # day, bookings inside the 30-day lookback of the run date).
    second = extract(spark, env, D1)
    assert second.batch_id == "2024-03-10-02"
    assert rows(second) == {
        "apartments": 1,
        "apartment_attributes": 1,
        "bookings": 1,
        "user_viewing": 1,
    }

    source(
        env,
        "insert into apartments values (3,'c','Realtor',300,'INR','2024-03-01',1,'2024-01-01')",
        # an update of an old listing: caught by its modification timestamp
        "update apartments set price = 111.00, last_modified_timestamp = '2024-03-11' where id = 1",
        "update apartment_attributes set cityname = 'Dallas' where id = 1",
        # a status change of a recent booking: caught by the lookback window
        "update bookings set booking_status = 'canceled' where booking_id = 1",
        # an old booking outside the lookback: not re-extracted (documented limit)
        "update bookings set booking_status = 'pending' where booking_id = 2",
        "insert into user_viewing values (7,3,'2024-03-02',1,'Reported')",
    )
    third = extract(spark, env, D2)
    batch = {t.table: spark.read.parquet(t.path) for t in third.tables if t.path}
    # 3 is new, 1 was modified, 2 is re-read: it was modified on the watermark's day
    assert sorted(r.id for r in batch["apartments"].collect()) == [1, 2, 3]
    assert [r.cityname for r in batch["apartment_attributes"].where("id = 1").collect()] == [
        "Dallas"
    ]
    assert [(r.booking_id, r.booking_status) for r in batch["bookings"].collect()] == [
        (1, "canceled")
    ]
    assert sorted((r.user_id, r.apartment_id) for r in batch["user_viewing"].collect()) == [
        (6, 2),
        (7, 3),
    ]

    state = BookmarkStore(env.bookmarks_root, "apartments").load()
    # Each table's declared primary key is its key: the source vouches for one row per key
    # in every batch, and load_raw need not look for repeated keys.
    assert {tb.keys_unique for b in state.batches for tb in b.tables.values()} == {True}
    marks = state.tables
    assert marks["apartments"]["last_key"] == [3]
    assert marks["apartments"]["modified_watermark"] == "2024-03-11 00:00:00"
    assert marks["user_viewing"]["last_key"] == ["2024-03-02 00:00:00"]


class FailingReader:
    """A reader that fails on one table, as a lost connection would."""

    def __init__(self, inner, fail_on):
        self.inner, self.fail_on = inner, fail_on

    def read(self, spec, query):
        if spec.name == self.fail_on:
            raise ConnectionError("connection reset by peer")
        return self.inner.read(spec, query)


def test_failed_run_leaves_bookmarks_and_rerun_overwrites_its_batch(spark, env):
    source(env, *SEED)
    store = BookmarkStore(env.bookmarks_root, "apartments")
    extract(spark, env, D1)
    before = store.path.read_text()
    source(
        env, "insert into apartments values (9,'z','Zillow',1,'USD','2024-03-01',1,'2024-03-01')"
    )
    with pytest.raises(ExtractError, match="bookings"):
        extract_domain(env, "apartments", D2, FailingReader(JdbcReader(spark, env), "bookings"))
    assert store.path.read_text() == before  # the bookmark did not move
    retry = extract(spark, env, D2)
    assert retry.batch_id == "2024-03-11-01"  # same batch as the failed attempt
    apartments = next(t for t in retry.tables if t.table == "apartments")
    assert sorted(r.id for r in spark.read.parquet(apartments.path).collect()) == [2, 9]


def stg(wh, table, key):
    _, result = wh.query(f"select * from raw_data.{table} order by {key}")
    return result


def staged_parts(env, table: str, batch_id: str, part: str) -> list[Path]:
    """The Parquet files load_raw staged for a batch's accepted rows or rejects."""
    folder = Path(staged_batch_path(env.lake_root, "apartments", table, batch_id, part))
    return sorted(folder.glob("*.parquet"))


def dictionary_columns(part: Path) -> list[str]:
    """The columns of a Parquet file with a dictionary-encoded chunk."""
    metadata = pq.ParquetFile(part).metadata
    return [
        metadata.row_group(g).column(c).path_in_schema
        for g in range(metadata.num_row_groups)
        for c in range(metadata.num_columns)
        if metadata.row_group(g).column(c).has_dictionary_page
    ]


def test_load_is_idempotent_and_reconciles(spark, env, warehouse):
    source(env, *SEED)
    extract(spark, env, D1)
    first = run_load_raw(spark, env, warehouse)
    assert {b.table: (b.rows_extracted, b.rows_loaded, b.rows_rejected) for b in first.batches} == {
        "apartments": (2, 2, 0), "apartment_attributes": (2, 2, 0),
        "bookings": (2, 2, 0), "user_viewing": (2, 2, 0),
    }  # fmt: skip
    # Every row accepted: no rejects were looked for, and none are staged.
    for b in first.batches:
        assert not staged_parts(env, b.table, b.batch_id, "rejects")
        assert staged_parts(env, b.table, b.batch_id, "accepted")
        # Read once by the COPY: written without dictionaries (load_raw._stage_batch).
        for part in staged_parts(env, b.table, b.batch_id, "accepted"):
            assert not dictionary_columns(part), (b.table, part)
    run_curate(warehouse)
    snapshot = {t: stg(warehouse, t, "1, 2") for t in ("stg_apartments", "stg_bookings")}
    _, curated_before = warehouse.query("select * from curated.fact_bookings order by 1")

    assert run_load_raw(spark, env, warehouse).batches == []  # nothing pending
    extract(spark, env, D1)  # re-reads, unchanged content
    again = run_load_raw(spark, env, warehouse)
    assert all(b.rows_inserted == 0 and b.rows_updated == 0 for b in again.batches)
    run_curate(warehouse)
    assert {t: stg(warehouse, t, "1, 2") for t in snapshot} == snapshot
    assert warehouse.query("select * from curated.fact_bookings order by 1")[1] == curated_before

    _, ledger = warehouse.query(
        "select count(*) from raw_data.load_batches where rows_extracted <> rows_loaded + rows_rejected"
    )
    assert ledger == [(0,)]


def test_a_first_batch_is_copied_into_the_empty_stg_table_and_the_next_merged(
    spark, env, warehouse, monkeypatch
):
    source(env, *SEED)
    extract(spark, env, D1)
    source(
        env,
        "update apartments set price = 111.00, last_modified_timestamp = '2024-03-05' where id = 1",
        "insert into apartments values (3,'c','Zillow',300.00,'USD','2024-03-01',1,'2024-03-06')",
    )
    extract(spark, env, D2)  # two batches of each table pending, the warehouse empty
    copied = []
    copy = warehouse.copy_parquet

    def recorded(table, columns, path):
        copied.append(table)
        return copy(table, columns, path)

    monkeypatch.setattr(warehouse, "copy_parquet", recorded)
    load = run_load_raw(spark, env, warehouse)

    apartments = [b for b in load.batches if b.table == "apartments"]
    assert [(b.rows_inserted, b.rows_updated) for b in apartments] == [(2, 0), (1, 1)]
    # the first batch straight into the table, the second through a stage and the merge
    assert [t for t in copied if t.endswith("apartments")] == [
        "raw_data.stg_apartments",
        "stage_apartments",
    ]
    _, prices = warehouse.query("select id, price from raw_data.stg_apartments order by id")
    assert prices == [(1, Decimal("111.00")), (2, Decimal("200.00")), (3, Decimal("300.00"))]
    assert {b.table for b in load.batches if b.rows_inserted} >= {"bookings", "user_viewing"}


def test_status_change_leaves_the_fact(spark, env, warehouse):
    source(env, *SEED)
    extract(spark, env, D1)
    run_load_raw(spark, env, warehouse)
    run_curate(warehouse)
    assert [
        r[0] for r in warehouse.query("select booking_id from curated.fact_bookings order by 1")[1]
    ] == [1, 2]
    source(env, "update bookings set booking_status = 'canceled' where booking_id = 1")
    extract(spark, env, D2)
    load = run_load_raw(spark, env, warehouse)
    assert {b.table: b.rows_updated for b in load.batches}["bookings"] == 1
    run_curate(warehouse)
    assert [
        r[0] for r in warehouse.query("select booking_id from curated.fact_bookings order by 1")[1]
    ] == [2]


def test_full_refresh_reconciles_deletes(spark, env, warehouse):
    source(env, *SEED)
    extract(spark, env, D1)
    run_load_raw(spark, env, warehouse)
    run_curate(warehouse)
    source(env, "delete from apartments where id = 2")
    refresh = extract(spark, env, D2, full_refresh=["apartments"])
    assert rows(refresh)["apartments"] == 1
    load = run_load_raw(spark, env, warehouse)
    assert {b.table: b.rows_deleted for b in load.batches}["apartments"] == 1
    run_curate(warehouse)
    assert warehouse.query("select listing_id from curated.dim_listings")[1] == [(1,)]
    with pytest.raises(ExtractError, match="unknown tables"):
        extract(spark, env, D3, full_refresh=["apartmentz"])
    # one --full-refresh list serves both domains: the other domain's tables are not ours
    other = extract(spark, env, D3, full_refresh=["vehicles"])
    assert not any(t.full_refresh for t in other.tables)


class LiteralReader:
    """Rows a JDBC source cannot hold (NULL keys, duplicate keys, oversized text), to
    exercise the reject path; everything else about the run is real."""

    def __init__(self, spark, rows_by_table):
        self.spark, self.rows = spark, rows_by_table

    def read(self, spec, query):
        return self.spark.createDataFrame(self.rows.get(spec.name, []), spark_schema(spec))


def test_bad_rows_go_to_rejects_with_reasons(spark, env, warehouse):
    long_title = "é" * 1025
    reader = LiteralReader(
        spark,
        {
            "apartments": [
                (1, "ok", "Zillow", None, "USD", None, True, None),
                (None, "no key", "Zillow", None, "USD", None, True, None),
                (2, long_title, "Zillow", None, "USD", None, True, None),
                (3, "v1", "Zillow", None, "USD", None, True, None),
                (3, "v1 again", "Zillow", None, "USD", None, True, None),
            ]
        },
    )
    extract_domain(env, "apartments", D1, reader)
    load = run_load_raw(spark, env, warehouse)
    (batch,) = load.batches
    assert (batch.rows_extracted, batch.rows_loaded, batch.rows_rejected) == (5, 2, 3)
    assert staged_parts(env, "apartments", batch.batch_id, "rejects")
    _, rejects = warehouse.query(
        "select record_key, rule, reason, raw_row from raw_data.rejects order by record_key, rule"
    )
    by_key = {r[0]: r for r in rejects}
    assert by_key["NULL"][1] == 'IsComplete "id"' and "NULL" in by_key["NULL"][2]
    # 1,025 characters, 2,050 bytes: widths are bytes, as in Redshift's varchar(1024)
    assert by_key["2"][1] == 'ColumnLength "title" <= 1024' and "2050 bytes" in by_key["2"][2]
    assert by_key["3"][1] == 'IsPrimaryKey "id"' and "superseded" in by_key["3"][2]
    assert json.loads(by_key["2"][3])["title"] == long_title  # the raw row, whole
    # loading the same bad rows again (a re-extraction) does not duplicate rejects
    extract_domain(env, "apartments", D2, reader)
    run_load_raw(spark, env, warehouse)
    assert warehouse.query("select count(*) from raw_data.rejects")[1] == [(3,)]


def test_small_queries_are_read_over_the_jdbc_driver_as_python_values(spark, settings):
    """The catalogue and the partition bounds: numbers (BIGINT UNSIGNED too) and text."""
    reader = JdbcReader(spark, settings)
    answer = "select cast(18446744073709551615 as unsigned) u, 2.50 d, 'é' t, null z, 7 i"
    assert reader._small_query(answer) == [
        {"u": 18446744073709551615, "d": Decimal("2.50"), "t": "é", "z": None, "i": 7}
    ]
    assert reader._small_query("select 1 x from dual where 1 = 0") == []
    with pytest.raises(TypeError, match="java.sql.Date"):
        reader._small_query("select date '2024-03-10' d")
