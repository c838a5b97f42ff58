"""DQDL rules on real warehouse tables (rental_analytics.quality.warehouse), the shipped
rulesets under redshift/quality, and the quality gate that ends curate.

Rule semantics run on scratch tables in a schema of their own (dq_test, dropped after each
test); the gate runs on the project's tables after a real curate.
"""

from __future__ import annotations

import re
from dataclasses import asdict
from datetime import date, datetime
from decimal import Decimal

import pytest

from rental_analytics.jobs.curate import run_curate
from rental_analytics.quality.dqdl import RuleKind, parse_ruleset
from rental_analytics.quality.warehouse import (
    QualityGateError,
    check_warehouse,
    evaluate_table,
    load_rulesets,
    read_catalog,
    reference_of,
    tables_apart_from,
)
from rental_analytics.sources.tables import all_tables
from tests.support.vehicle_rows import (
    put_stg_location,
    put_stg_rental,
    put_stg_rental_user,
    put_stg_vehicle,
)
from tests.support.warehouse_rows import (
    LOAD_METADATA,
    insert_row,
    put_stg_apartment,
    put_stg_attributes,
    put_stg_booking,
    put_stg_view,
    rows,
)

ITEMS = "dq_test.items"
ITEM_COLUMNS = (
    "line",
    "item_id",
    "code",
    "price",
    "weight",
    "created_on",
    "seen_at",
    "is_active",
    "parent_id",
)
# line 5 repeats item 1 and points at a parent that does not exist; line 4 is all NULL.
ITEM_ROWS = [
    (1, 1, "A-1", "10.00", 1.5, date(2024, 1, 1), datetime(2024, 1, 1, 10), True, 100),
    (2, 2, "A-2", "20.50", 2.5, date(2024, 1, 31), datetime(2024, 1, 31, 23, 59), False, 100),
    (3, 3, "B-3", "0.00", -1.0, date(2024, 2, 1), datetime(2024, 2, 1), True, 200),
    (4, 4, None, None, None, None, None, None, None),
    (5, 1, "long-code-5", "5.00", 0.0, date(2023, 12, 31), datetime(2023, 12, 31, 12), True, 999),
]


@pytest.fixture
def scratch(warehouse):
    """dq_test.items (ITEM_ROWS) and dq_test.parents (100, 200), dropped afterwards."""
    warehouse.execute("drop schema if exists dq_test cascade")
    warehouse.execute("create schema dq_test")
    warehouse.execute(
        "create table dq_test.items (line integer not null, item_id integer,"
        " code varchar(32), price numeric(10, 2), weight double precision, created_on date,"
        " seen_at timestamp, is_active boolean, parent_id integer)"
    )
    warehouse.execute("create table dq_test.parents (parent_id integer, name varchar(32))")
    warehouse.execute("create table dq_test.empty (item_id integer, code varchar(32))")
    for row in ITEM_ROWS:
        values = dict(zip(ITEM_COLUMNS, row, strict=True))
        values["price"] = None if values["price"] is None else Decimal(values["price"])
        insert_row(warehouse, ITEMS, values)
    for parent_id in (100, 200):
        insert_row(warehouse, "dq_test.parents", {"parent_id": parent_id, "name": f"p{parent_id}"})
    yield warehouse
    warehouse.execute("drop schema dq_test cascade")


def failures(wh, table: str, *rules: str):
    return evaluate_table(wh, table, parse_ruleset(f"Rules = [{', '.join(rules)}]"))


def observed(wh, table: str, rule: str) -> int | float | None:
    """The observed value of a failing rule, or None when it holds."""
    (failure,) = failures(wh, table, rule) or (None,)
    return None if failure is None else failure.observed


# ------------------------------------------------------------------------ rule kinds


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ("RowCount = 5", None),
        ("RowCount between 1 and 4", 5),
        ("ColumnCount = 9", None),
        ("ColumnCount < 9", 9),
        ('IsComplete "item_id"', None),
        ('IsComplete "code"', 0.8),
        ('IsUnique "code"', None),  # NULL is not a duplicate
        ('IsUnique "item_id"', 0.8),  # 4 distinct of 5 non-null
        ('IsPrimaryKey "line"', None),
        ('IsPrimaryKey "item_id"', 0.8),
        ('IsPrimaryKey "item_id" "line"', None),
        ('IsPrimaryKey "item_id" "is_active"', 0.6),  # (1, true) twice, line 4 incomplete
        ('ColumnValues "price" >= 0', None),  # NULL passes
        ('ColumnValues "price" > 0', 0.8),
        ('ColumnValues "price" between 5 and 20.5', 0.8),
        ('ColumnValues "weight" < 2.5', 0.8),  # double against a decimal literal
        ('ColumnValues "item_id" != 1', 0.6),
        ('ColumnValues "item_id" in [1, 2, 3, 4]', None),
        ('ColumnValues "item_id" not in [4]', 0.8),
        ('ColumnValues "code" in ["A-1", "A-2", "B-3", "long-code-5"]', None),
        ('ColumnValues "code" not in ["B-3", "zzz"]', 0.8),
        ('ColumnValues "code" matches "[A-Z]-[0-9]"', 0.8),
        ('ColumnValues "code" matches "A"', 0.2),  # the whole value must match
        ('ColumnValues "code" matches "A|B-3"', 0.4),  # anchored around the alternation
        ('ColumnValues "created_on" >= "2024-01-01"', 0.8),
        ('ColumnValues "created_on" between "2023-12-31" and "2024-02-01"', None),
        ('ColumnValues "seen_at" between "2024-01-01" and "2024-01-31"', 0.6),  # calendar day
        ('ColumnLength "code" <= 3', 0.8),
        ('ColumnLength "code" between 3 and 11', None),
        ('ReferentialIntegrity "parent_id" "dq_test.parents.parent_id" = 1.0', 0.8),
        ('ReferentialIntegrity "parent_id" "parents.parent_id" >= 0.8', None),
        ('ReferentialIntegrity "parent_id" "parents.parent_id" between 0.5 and 0.7', 0.8),
    ],
)
def test_each_rule_kind_passes_and_fails(scratch, rule, expected):
    result = observed(scratch, ITEMS, rule)
    assert result == (None if expected is None else pytest.approx(expected))


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ('ColumnValues "price" > 0 with threshold >= 0.8', None),
        ('ColumnValues "price" > 0 with threshold > 0.8', 0.8),
        ('IsComplete "code" with threshold = 0.8', None),
        ('IsComplete "code" with threshold < 0.5', 0.8),
        ('ColumnLength "code" <= 3 with threshold >= 0.8', None),
        ('ColumnLength "code" <= 3 with threshold <= 0.5', 0.8),
    ],
)
def test_thresholds_both_ways(scratch, rule, expected):
    result = observed(scratch, ITEMS, rule)
    assert result == (None if expected is None else pytest.approx(expected))


def test_referential_integrity_counts_missing_values_and_rows_and_lets_null_pass(scratch):
    insert_row(scratch, ITEMS, {"line": 6, "item_id": 6, "parent_id": 999})
    insert_row(scratch, ITEMS, {"line": 7, "item_id": 7, "parent_id": 998})
    insert_row(scratch, ITEMS, {"line": 8, "item_id": 8, "parent_id": None})
    (failure,) = failures(
        scratch, ITEMS, 'ReferentialIntegrity "parent_id" "parents.parent_id" = 1'
    )
    assert failure.observed == pytest.approx(5 / 8)
    assert failure.message.endswith("2 values in 3 rows not found in parents.parent_id")

    scratch.execute("delete from dq_test.items where parent_id >= 998")
    assert (
        failures(scratch, ITEMS, 'ReferentialIntegrity "parent_id" "parents.parent_id" = 1') == []
    )


def test_an_empty_table_passes_every_rule_but_a_row_count(scratch):
    rules = (
        "RowCount = 0",
        'IsComplete "code"',
        'IsUnique "code"',
        'IsPrimaryKey "item_id" "code"',
        'ColumnValues "code" in ["x"]',
        'ColumnLength "code" > 100 with threshold = 1.0',
        'ReferentialIntegrity "item_id" "parents.parent_id" = 1.0',
    )
    assert failures(scratch, "dq_test.empty", *rules) == []
    (failure,) = failures(scratch, "dq_test.empty", "RowCount > 0")
    assert failure.observed == 0


def test_the_message_names_table_rule_threshold_and_observed_value(scratch):
    found = failures(
        scratch,
        ITEMS,
        'IsUnique "item_id"',
        'ColumnValues "price" > 0',
        'IsPrimaryKey "item_id" "is_active"',
        "RowCount > 10",
    )
    assert [f.message for f in found] == [
        "dq_test.items: rule 'IsUnique \"item_id\"' failed: observed 0.8000 (threshold = 1.0);"
        " 1 duplicated value",
        "dq_test.items: rule 'ColumnValues \"price\" > 0' failed: observed 0.8000"
        " (threshold = 1.0); 4 of 5 rows pass",
        'dq_test.items: rule \'IsPrimaryKey "item_id" "is_active"\' failed: observed 0.6000'
        " (threshold = 1.0); 1 duplicated key, 1 row with a NULL key column",
        "dq_test.items: rule 'RowCount > 10' failed: observed 5 (threshold > 10)",
    ]
    assert [(f.table, f.threshold) for f in found[:1]] == [(ITEMS, "= 1.0")]


def test_missing_column_or_table_names_the_rule(scratch):
    with pytest.raises(ValueError, match=r"rule 'IsComplete \"nope\"': column 'nope' is not in"):
        failures(scratch, ITEMS, 'IsComplete "nope"')
    with pytest.raises(ValueError, match=r"column 'id' is not in dq_test.parents"):
        failures(scratch, ITEMS, 'ReferentialIntegrity "parent_id" "parents.id" = 1.0')
    with pytest.raises(ValueError, match="dq_test.nowhere: no such table"):
        failures(scratch, "dq_test.nowhere", "RowCount > 0")


class CountingWarehouse:
    """The real warehouse, counting the queries sent to it."""

    def __init__(self, wh) -> None:
        self.wh, self.queries = wh, 0

    def query(self, sql, params=None):
        self.queries += 1
        return self.wh.query(sql, params)


def test_all_rules_of_a_table_cost_one_query_and_the_catalog(scratch):
    rules = parse_ruleset(
        'Rules = [RowCount > 0, ColumnCount = 9, IsUnique "code", IsPrimaryKey "item_id"'
        ' "line", ColumnValues "price" >= 0, ColumnLength "code" <= 20,'
        ' ReferentialIntegrity "parent_id" "parents.parent_id" >= 0.5]'
    )
    counting = CountingWarehouse(scratch)
    assert evaluate_table(counting, ITEMS, rules) == []
    assert counting.queries == 2
    catalog = read_catalog(scratch, [ITEMS, "dq_test.parents"])
    counting.queries = 0
    assert evaluate_table(counting, ITEMS, rules, catalog=catalog) == []
    assert counting.queries == 1


# --------------------------------------------------------------------- shipped rulesets


def test_every_shipped_ruleset_parses_and_names_existing_tables_and_columns(warehouse):
    rulesets = load_rulesets()
    stg = {f"raw_data.stg_{spec.name}" for spec in all_tables()}
    curated = {
        f"curated.{name}"
        for (name,) in rows(
            warehouse,
            "select table_name from information_schema.tables"
            " where table_schema = 'curated' and table_type = 'BASE TABLE'",
        )
    }
    assert stg | curated | {"raw_data.load_batches", "raw_data.rejects"} == set(rulesets)
    # every table and column exists: evaluating raises otherwise; empty tables pass
    for table, rules in rulesets.items():
        assert evaluate_table(warehouse, table, rules) == [], table


def test_stg_rulesets_state_the_spec_primary_key_and_the_batch_ledger():
    rulesets = load_rulesets()
    for spec in all_tables():
        rules = {rule.text for rule in rulesets[f"raw_data.stg_{spec.name}"]}
        assert "IsPrimaryKey " + " ".join(f'"{k}"' for k in spec.primary_key) in rules
        assert (
            'ReferentialIntegrity "load_batch_id" "raw_data.load_batches.batch_id" = 1.0' in rules
        )


def test_the_ledger_ruleset_lists_every_source_table():
    (source_tables,) = [
        rule
        for rule in load_rulesets()["raw_data.load_batches"]
        if rule.kind == RuleKind.COLUMN_VALUES and rule.columns == ("source_table",)
    ]
    assert sorted(source_tables.values) == sorted(spec.name for spec in all_tables())


def test_references_of_shipped_rulesets_resolve():
    for table, rules in load_rulesets().items():
        for rule in rules:
            if rule.kind == RuleKind.REFERENTIAL_INTEGRITY:
                ref_table, _ = reference_of(rule, table)
                assert ref_table.split(".")[0] in ("raw_data", "curated"), rule.text


# ---------------------------------------------------------------------------- the gate


def stage_dirty_but_handled_rows(wh) -> None:
    """Rows the pipeline handles: late-arriving dimensions, invalid facts left out, NULLs.
    Each stg row is written as a batch recorded in raw_data.load_batches, as load_raw does."""
    put_stg_apartment(wh, 1)
    put_stg_attributes(wh, 1, cityname=None)
    put_stg_apartment(wh, 2)  # no attributes
    day = date(2024, 1, 2)
    put_stg_booking(
        wh, 10, user_id=5, apartment_id=1, booking_date=day, checkin_date=day,
        checkout_date=date(2024, 1, 5),
    )  # fmt: skip
    # listing 77 has not arrived (late-arriving dimension)
    put_stg_booking(
        wh, 11, user_id=6, apartment_id=77, booking_date=day, checkin_date=day,
        checkout_date=date(2024, 1, 3), currency=" usd",
    )  # fmt: skip
    # zero nights: not a valid stay, left out of the fact; and a canceled booking
    put_stg_booking(
        wh, 12, user_id=6, apartment_id=1, booking_date=day, checkin_date=day,
        checkout_date=day,
    )  # fmt: skip
    put_stg_booking(
        wh, 13, user_id=7, apartment_id=2, booking_date=day, checkin_date=day,
        checkout_date=date(2024, 1, 4), booking_status="canceled",
    )  # fmt: skip
    put_stg_view(wh, user_id=5, apartment_id=1, viewed_at=datetime(2024, 1, 1, 9))
    put_stg_view(wh, user_id=8, apartment_id=99, viewed_at=datetime(2024, 1, 1, 9))
    put_stg_vehicle(wh, "v1", vehicle_type="  Premium ")
    put_stg_vehicle(wh, "v2", vehicle_type=" ")
    put_stg_vehicle(wh, "v3", vehicle_type=None)
    put_stg_location(wh, 1, city=None)
    put_stg_rental_user(wh, "u1")
    start = datetime(2024, 1, 3, 8)
    put_stg_rental(wh, "r1", start=start, end=datetime(2024, 1, 3, 11))
    # one second long (0.00 hours), by an unknown user in an unknown vehicle and place
    put_stg_rental(
        wh, "r2", start=start, end=datetime(2024, 1, 3, 8, 0, 1), vehicle_id="v404",
        user_id="u404", pickup_location=404, dropoff_location=None,
    )  # fmt: skip
    # invalid rentals, left out of the fact: ends before it starts, negative amount, no start
    put_stg_rental(wh, "r3", start=start, end=datetime(2024, 1, 3, 7))
    put_stg_rental(wh, "r4", start=start, end=datetime(2024, 1, 3, 9), total_amount="-5.0000")
    put_stg_rental(wh, "r5", start=None, end=datetime(2024, 1, 3, 9))


def total_rules() -> int:
    return sum(len(rules) for rules in load_rulesets().values())


def test_gate_passes_on_an_empty_warehouse(warehouse):
    result = check_warehouse(warehouse)
    assert result.failures == []
    assert (result.tables, result.rules) == (len(load_rulesets()), total_rules())


def test_gate_passes_after_a_real_curate_of_dirty_but_handled_rows(warehouse):
    stage_dirty_but_handled_rows(warehouse)

    result = run_curate(warehouse)

    assert asdict(result)["quality_rules"] == total_rules()
    # the rows did reach the curated tables the gate checked
    assert rows(warehouse, "select booking_id from curated.fact_bookings order by 1") == [
        (10,),
        (11,),
    ]
    assert rows(warehouse, "select rental_id from curated.fact_rentals order by 1") == [
        ("r1",),
        ("r2",),
    ]
    assert rows(warehouse, "select vehicle_type from curated.dim_vehicles order by 1") == [
        ("premium",),
        (None,),
        (None,),
    ]
    assert run_curate(warehouse).quality_rules == total_rules()  # a rerun passes too


@pytest.fixture
def without_primary_key(warehouse):
    """curated.fact_bookings without its PostgreSQL primary key (Redshift enforces none), so a
    duplicate can be written; the key is restored after the test."""
    warehouse.execute("alter table curated.fact_bookings drop constraint fact_bookings_pkey")
    yield warehouse
    warehouse.execute("truncate curated.fact_bookings")
    warehouse.execute("alter table curated.fact_bookings add primary key (booking_id)")


def test_gate_fails_curate_after_a_duplicate_in_a_curated_table(without_primary_key):
    wh = without_primary_key
    stage_dirty_but_handled_rows(wh)
    run_curate(wh)
    wh.execute(
        "insert into curated.fact_bookings select * from curated.fact_bookings where booking_id = 10"
    )

    with pytest.raises(QualityGateError) as caught:
        run_curate(wh)

    (failure,) = caught.value.failures
    assert failure.table == "curated.fact_bookings"
    assert failure.rule == 'IsPrimaryKey "booking_id"'
    assert re.search(
        r"curated\.fact_bookings: rule 'IsPrimaryKey \"booking_id\"' failed: observed 0\.6667 "
        r"\(threshold = 1\.0\); 1 duplicated key",
        str(caught.value),
    )


def test_gate_fails_curate_after_a_stg_row_from_an_unrecorded_batch(warehouse):
    stage_dirty_but_handled_rows(warehouse)
    run_curate(warehouse)
    insert_row(
        warehouse,
        "raw_data.stg_bookings",
        {"booking_id": 50, **LOAD_METADATA, "load_batch_id": "ghost-batch"},
    )

    with pytest.raises(QualityGateError) as caught:
        run_curate(warehouse)

    (failure,) = caught.value.failures
    assert (failure.table, failure.rule) == (
        "raw_data.stg_bookings",
        'ReferentialIntegrity "load_batch_id" "raw_data.load_batches.batch_id" = 1.0',
    )
    assert "1 value in 1 row not found in raw_data.load_batches.batch_id" in str(caught.value)


def test_curate_lists_what_the_gate_found_beside_the_merges_and_after_them_in_order(
    without_primary_key,
):
    # raw_data.stg_bookings is checked while the merges run (no merge writes it), the
    # curated table after them: both failures reach the error, in ruleset order.
    wh = without_primary_key
    stage_dirty_but_handled_rows(wh)
    run_curate(wh)
    wh.execute(
        "insert into curated.fact_bookings select * from curated.fact_bookings where booking_id = 10"
    )
    insert_row(
        wh, "raw_data.stg_bookings", {"booking_id": 50, **LOAD_METADATA, "load_batch_id": "ghost"}
    )

    with pytest.raises(QualityGateError) as caught:
        run_curate(wh)

    assert [f.table for f in caught.value.failures] == [
        "curated.fact_bookings",
        "raw_data.stg_bookings",
    ]


def test_the_rulesets_checked_beside_the_merges_are_those_no_merge_changes():
    written = {"curated.fact_bookings", "raw_data.curated_batches"}
    apart = tables_apart_from(written)
    assert not apart & written
    assert {"raw_data.stg_bookings", "raw_data.load_batches", "curated.dim_listings"} <= apart
    # a ruleset that references a written table waits too: rejects reference load_batches
    assert "raw_data.rejects" not in tables_apart_from({"raw_data.load_batches"})


def test_the_gate_on_two_connections_finds_what_it_finds_on_one(warehouse):
    """check_warehouse measures the tables two at a time, on its connection and one more:
    the same failures, in ruleset order, as on one connection."""
    for table, key in (("raw_data.stg_bookings", "booking_id"), ("raw_data.stg_apartments", "id")):
        insert_row(warehouse, table, {key: 50, **LOAD_METADATA, "load_batch_id": "ghost-batch"})

    one = check_warehouse(warehouse, at_once=1)
    two = check_warehouse(warehouse, at_once=2)

    assert [f.table for f in one.failures] == ["raw_data.stg_apartments", "raw_data.stg_bookings"]
    assert [f.message for f in two.failures] == [f.message for f in one.failures]
    assert (
        (two.tables, two.rules) == (one.tables, one.rules) == (len(load_rulesets()), total_rules())
    )
