"""Redshift's DATEDIFF/DATEADD and byte-wide VARCHAR on the local PostgreSQL: the same
answers and the same refusals as Redshift (AWS docs: r_DATEDIFF_function,
r_DATEADD_function, r_Character_types)."""

from __future__ import annotations

import pytest

from rental_analytics.warehouse.base import WarehouseError


def one(wh, sql: str):
    _, rows = wh.query(wh.adapt(sql))
    return rows[0][0]


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        # Boundaries crossed, not elapsed time: two minutes across midnight are one day.
        ("select datediff(day, '2024-01-01 23:59'::timestamp, '2024-01-02 00:01'::timestamp)", 1),
        ("select datediff(day, cast('2024-01-01' as date), cast('2024-03-01' as date))", 60),
        (
            "select datediff(second, '2024-01-01 08:00:00'::timestamp, '2024-01-02 09:30:15'::timestamp)",
            91815,
        ),
        ("select datediff(hour, '2024-01-01 08:59'::timestamp, '2024-01-01 09:00'::timestamp)", 1),
        ("select datediff(month, cast('2024-01-31' as date), cast('2024-02-01' as date))", 1),
        ("select datediff(year, cast('2024-12-31' as date), cast('2025-01-01' as date))", 1),
        ("select datediff(days, cast('2024-03-01' as date), cast('2024-01-01' as date))", -60),
        ("select cast(dateadd(day, -30, cast('2024-03-01' as date)) as date)", "2024-01-31"),
        ("select cast(dateadd(month, 1, cast('2024-01-31' as date)) as date)", "2024-02-29"),
    ],
)
def test_datediff_and_dateadd_have_redshift_semantics(warehouse, sql, expected):
    got = one(warehouse, sql)
    assert (got.isoformat() if hasattr(got, "isoformat") else got) == expected


def test_unknown_datepart_is_refused(warehouse):
    with pytest.raises(WarehouseError, match="datepart"):
        one(warehouse, "select datediff(fortnight, current_date, current_date)")


def test_varchar_refuses_a_value_wider_in_bytes_than_characters(warehouse):
    # 41 accented letters: 41 characters, 82 bytes; Redshift's varchar(64) holds 64 bytes.
    insert = (
        "insert into raw_data.stg_rental_users (user_id, load_batch_id, load_run_date,"
        " load_row_hash, loaded_at) values (%(u)s, 'b', current_date, %(h)s, now())"
    )
    with pytest.raises(Exception, match="octet_length|check constraint"), warehouse.transaction():
        warehouse.execute(insert, {"u": "é" * 41, "h": "0" * 32})
    warehouse.execute(insert, {"u": "é" * 32, "h": "0" * 32})  # 64 bytes: fits


def test_the_reject_row_hash_in_sql_is_the_python_recipe(warehouse):
    # quality/rejects.py: a stale version is rejected inside the warehouse (row_hash_sql),
    # the importer's rejects in Python; the same reject must get the same hash.
    from rental_analytics.quality.rejects import row_hash, row_hash_sql

    for raw_row, rule in [('{"id":"1"}', "IsPrimaryKey"), ('{"c":"Zürich 東京"}', "IsUnique")]:
        expression = row_hash_sql("cast(%(r)s as varchar(65535))", "cast(%(u)s as varchar(1024))")
        _, rows = warehouse.query(f"select {expression}", {"r": raw_row, "u": rule})
        assert rows[0][0] == row_hash(raw_row, rule)


@pytest.mark.parametrize(
    "create",
    [
        "create temp table made_here as select generate_series(1, 5000) as n",
        "-- a leading comment\nCREATE TEMPORARY TABLE made_here AS select generate_series(1, 5000) as n",
    ],
)
def test_a_table_made_by_create_table_as_has_statistics_as_on_redshift(warehouse, create):
    # Redshift analyzes it as it is made (AWS docs: r_ANALYZE, usage notes); without them
    # PostgreSQL guesses its size and join keys, and picked plans 2x slower in the merges.
    with warehouse.transaction():
        assert warehouse.execute(create) == 5000
        _, stats = warehouse.query(
            "select reltuples, (select count(*) from pg_stats where tablename = 'made_here')"
            " from pg_class where relname = 'made_here'"
        )
        warehouse.execute("drop table made_here")
    assert stats == [(5000, 1)]
