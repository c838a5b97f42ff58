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
        (
            "select datediff(minute, '2024-01-01 08:59:59'::timestamp, '2024-01-01 09:00:00'::timestamp)",
            1,
        ),
        # Weeks start on Monday: Sunday to Monday crosses one boundary, Monday to Sunday none.
        ("select datediff(week, cast('2024-01-07' as date), cast('2024-01-08' as date))", 1),
        ("select datediff(week, cast('2024-01-08' as date), cast('2024-01-14' as date))", 0),
        ("select datediff(qtr, cast('2024-03-31' as date), cast('2024-04-01' as date))", 1),
        ("select datediff(day, null::timestamp, cast('2024-01-01' as date))", None),
        ("select cast(dateadd(day, -30, cast('2024-03-01' as date)) as date)", "2024-01-31"),
        ("select cast(dateadd(month, 1, cast('2024-01-31' as date)) as date)", "2024-02-29"),
        ("select cast(dateadd(quarter, 1, cast('2024-11-30' as date)) as date)", "2025-02-28"),
        ("select cast(dateadd(week, 2, cast('2024-12-25' as date)) as date)", "2025-01-08"),
        ("select cast(dateadd(year, -1, cast('2024-02-29' as date)) as date)", "2023-02-28"),
        ("select dateadd(hour, 25, '2024-01-01 08:30'::timestamp)", "2024-01-02T09:30:00"),
        ("select dateadd(second, -90, '2024-01-01 00:00'::timestamp)", "2023-12-31T23:58:30"),
        ("select dateadd(day, 1, null::timestamp)", None),
    ],
)
def test_datediff_and_dateadd_have_redshift_semantics(warehouse, sql, expected):
    got = one(warehouse, sql)
    assert (got.isoformat() if hasattr(got, "isoformat") else got) == expected


@pytest.mark.parametrize(
    "call",
    ["datediff(day, checkin_date, checkout_date)", "dateadd(day, -30, booking_date)"],
)
def test_datediff_and_dateadd_are_written_into_the_query_not_called_row_by_row(warehouse, call):
    # A PL/pgSQL function is called for each row: DATEDIFF over the 500,000 bookings of
    # scale 1 took 1.2 s that way, 0.1 s written into the query (postgres_compat.py).
    _, plan = warehouse.query(
        warehouse.adapt(f"explain verbose select {call} from raw_data.stg_bookings")
    )
    text = "\n".join(r[0] for r in plan)
    assert call.split("(")[0] not in text and "redshift_datepart" not in text, text


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
