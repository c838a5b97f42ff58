"""Typing of landed CSV text (parse_value, parse_landed) and the staging of landed batches.

Raw rows are built as the landing reader writes them: every spec column as text, plus
source_file, source_file_seq and corrupt_record (raw_landed_schema). Timestamps are
compared as text in the session time zone (UTC), so the tests do not depend on the time
zone of the Python process.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal

import pytest
from pyspark.sql import functions as F
from pyspark.sql import types as T
from pyspark.testing import assertDataFrameEqual

from rental_analytics.columns import (
    CORRUPT_RECORD,
    LOAD_COLUMNS,
    SOURCE_FILE,
    SOURCE_FILE_SEQ,
    SOURCE_ROW_SEQ,
    STALE_GUARD_COLUMN,
)
from rental_analytics.jobs.load_raw import load_rules
from rental_analytics.quality.evaluate import FAILURES_COLUMN
from rental_analytics.sources.landing import raw_landed_schema
from rental_analytics.sources.tables import (
    ANY_DATE,
    RENTAL_TRANSACTIONS,
    VEHICLES,
    Column,
    TableSpec,
)
from rental_analytics.transforms.landed import (
    LAYOUTS,
    MALFORMED_RULE,
    PARSE_FAILURES,
    RAW_ROW,
    parse_landed,
    parse_value,
)
from rental_analytics.transforms.staging import (
    BatchContext,
    check_batch,
    prepare_batch,
    split_batch,
)

CTX = BatchContext("2024-05-01-01", date(2024, 5, 1), datetime(2024, 5, 1, 2, 0))
FILE = "probe/import-0001/probe.csv"

# One landed column of every logical type.
PROBE = TableSpec(
    name="probe",
    domain="vehicle_rentals",
    columns=(
        Column("id", "string", nullable=False),
        Column("n_int", "int"),
        Column("n_big", "bigint"),
        Column("amount", "decimal(14,4)"),
        Column("ratio", "double"),
        Column("flag", "boolean"),
        Column("day_on", "date", formats=ANY_DATE),
        Column("seen_at", "timestamp", formats=ANY_DATE),
        Column("note", "string"),
    ),
    primary_key=("id",),
    bookmark_keys=(),
    landing_prefix="probe",
)
ANY_DATE_SHOWN = "yyyy-MM-dd HH:mm:ss | yyyy-MM-dd | dd-MM-yyyy HH:mm:ss | dd-MM-yyyy"


def raw_frame(spark, spec, rows):
    """Raw landed rows from dicts of column -> text (absent columns are NULL)."""
    data = [
        (
            *(r.get(c) for c in spec.column_names),
            r.get(SOURCE_FILE, FILE),
            r.get(SOURCE_FILE_SEQ, 1),
            r.get(SOURCE_ROW_SEQ, line),
            r.get(CORRUPT_RECORD),
        )
        for line, r in enumerate(rows)
    ]
    return spark.createDataFrame(data, raw_landed_schema(spec))


def _shown(column, dtype):
    # Timestamps as text in the session time zone: independent of the Python process's.
    if isinstance(dtype, T.TimestampType):
        return F.date_format(F.col(column), "yyyy-MM-dd HH:mm:ss").alias(column)
    return F.col(column)


def parse_column(spark, column, values):
    """parse_landed of PROBE rows holding ``values`` in ``column``: [(typed, failures)]."""
    raw = raw_frame(spark, PROBE, [{"id": str(i), column: v} for i, v in enumerate(values)])
    parsed = parse_landed(raw, PROBE)
    dtype = parsed.schema[column].dataType
    rows = parsed.select("id", _shown(column, dtype), PARSE_FAILURES).collect()
    by_id = {int(r.id): (r[column], [(f.rule, f.reason) for f in r[PARSE_FAILURES]]) for r in rows}
    assert len(by_id) == len(values)
    return [by_id[i] for i in range(len(values))]


def assert_parses(spark, column, cases):
    """Each text parses to its value with no failure."""
    got = parse_column(spark, column, [text for text, _ in cases])
    assert [(text, *g) for (text, _), g in zip(cases, got, strict=True)] == [
        (text, expected, []) for text, expected in cases
    ]


def assert_fails(spark, column, texts, rule, expected):
    """Each text is NULL with exactly one failure: ``rule``, naming column, value, type."""
    got = parse_column(spark, column, texts)
    assert got == [(None, [(rule, f"{column}: '{text}' is not {expected}")]) for text in texts]


# -- parse_landed, one logical type at a time --------------------------------------------


def test_integers(spark):
    assert_parses(
        spark,
        "n_int",
        [("12", 12), (" 7 ", 7), ("12.0", 12), ("12.", 12), ("+7", 7), ("-3", -3), ("0", 0)],
    )
    assert_fails(
        spark,
        "n_int",
        ["1.5", "abc", "99999999999", "1e3", "12.01", " 4 2 "],  # reasons show the raw text
        'ColumnDataType "n_int" = "INTEGER"',
        "an integer fitting int",
    )


def test_bigints(spark):
    assert_parses(spark, "n_big", [("99999999999", 99999999999), ("-5.00", -5)])
    assert_fails(
        spark,
        "n_big",
        ["99999999999999999999", "7x"],
        'ColumnDataType "n_big" = "LONG"',
        "an integer fitting bigint",
    )


def test_decimals_round_to_the_scale(spark):
    assert_parses(
        spark,
        "amount",
        [
            ("450.0", Decimal("450.0000")),
            ("-3", Decimal("-3.0000")),
            ("12.34567", Decimal("12.3457")),  # rounded half up to 4 places
            ("12.34564", Decimal("12.3456")),
            ("1e3", Decimal("1000.0000")),
            (".5", Decimal("0.5000")),
            (" 7.25 ", Decimal("7.2500")),
        ],
    )
    assert_fails(
        spark,
        "amount",
        ["12,50", "abc", "NaN", "12345678901.5"],  # the last overflows decimal(14,4)
        'ColumnDataType "amount" = "DECIMAL"',
        "a number fitting decimal(14,4)",
    )


def test_doubles(spark):
    assert_parses(
        spark,
        "ratio",
        [("1.5", 1.5), ("-.5", -0.5), ("1e3", 1000.0), ("40.7128", 40.7128), ("-74", -74.0)],
    )
    assert_fails(
        spark,
        "ratio",
        ["abc", "NaN", "1.2.3", "1e400", "-1e400"],  # overflow to infinity is not a value
        'ColumnDataType "ratio" = "DOUBLE"',
        "a double",
    )


def test_booleans(spark):
    assert_parses(
        spark,
        "flag",
        [
            ("1", True),
            ("0", False),
            ("True", True),
            ("false", False),
            (" TRUE ", True),
            ("yes", True),
            ("n", False),
        ],
    )
    assert_fails(
        spark,
        "flag",
        ["maybe", "2", "truthy"],
        'ColumnDataType "flag" = "BOOLEAN"',
        "a boolean (0/1, true/false)",
    )


# One sample per accepted layout: the column's formats must all be covered.
TIMESTAMP_SAMPLES = {
    "yyyy-MM-dd HH:mm:ss": ("2024-01-31 22:30:00", "2024-01-31 22:30:00"),
    "yyyy-MM-dd": ("2024-01-31", "2024-01-31 00:00:00"),
    "dd-MM-yyyy HH:mm:ss": ("31-01-2024 22:30:00", "2024-01-31 22:30:00"),
    "dd-MM-yyyy": ("31-01-2024", "2024-01-31 00:00:00"),
}


def test_every_date_format_of_the_specs_is_a_known_layout():
    for spec in (VEHICLES, RENTAL_TRANSACTIONS, PROBE):
        for column in spec.columns:
            if column.type in ("date", "timestamp"):
                assert column.formats, column.name
                assert set(column.formats) <= set(LAYOUTS), column.name
                assert set(column.formats) <= set(TIMESTAMP_SAMPLES), column.name


def test_timestamps_in_every_accepted_layout(spark):
    assert_parses(
        spark,
        "seen_at",
        [
            *TIMESTAMP_SAMPLES.values(),
            ("1-2-2024", "2024-02-01 00:00:00"),  # single-digit day and month
            ("1-2-2024 9:05:07", "2024-02-01 09:05:07"),
            ("2024-1-2", "2024-01-02 00:00:00"),
            ("2024-01-31T22:30", "2024-01-31 22:30:00"),  # ISO T, no seconds
            (" 29-02-2024 ", "2024-02-29 00:00:00"),  # a leap day, trimmed
        ],
    )


def test_dates_in_every_accepted_layout(spark):
    assert_parses(
        spark,
        "day_on",
        [
            ("2024-01-31 22:30:00", date(2024, 1, 31)),
            ("2024-01-31", date(2024, 1, 31)),
            ("31-01-2024 23:59:59", date(2024, 1, 31)),  # not shifted to another day
            ("31-01-2024", date(2024, 1, 31)),
            ("1-2-2024", date(2024, 2, 1)),
        ],
    )


def test_the_vehicle_timestamp_accepts_both_orders(spark):
    raw = raw_frame(
        spark,
        VEHICLES,
        [
            {"vehicle_id": "a", "last_update_timestamp": "31-01-2024 22:30:00"},
            {"vehicle_id": "b", "last_update_timestamp": "2024-01-31 22:30:00"},
            {"vehicle_id": "c", "last_update_timestamp": "31-01-2024"},
        ],
    )
    out = parse_landed(raw, VEHICLES).select(
        "vehicle_id",
        F.date_format("last_update_timestamp", "yyyy-MM-dd HH:mm:ss").alias("ts"),
        F.size(PARSE_FAILURES).alias("failures"),
    )
    assert sorted(tuple(r) for r in out.collect()) == [
        ("a", "2024-01-31 22:30:00", 0),
        ("b", "2024-01-31 22:30:00", 0),
        ("c", "2024-01-31 00:00:00", 0),
    ]


@pytest.mark.parametrize(
    "text",
    [
        "31-02-2024",  # no 31 February
        "29-02-2023",  # not a leap year
        "2024-13-01 10:00:00",  # no month 13
        "2024-01-01 25:00:00",  # no hour 25
        "2024-01-01 10:60:00",  # no minute 60
        "2024-01-31 23:59:60",  # no leap second (make_timestamp would roll it over)
        "0000-01-01 00:00:00",  # no year 0
        "31/01/2024",  # a layout the column does not accept
        "2024-01-31 22:30:00.123",
        "yesterday",
    ],
)
def test_impossible_timestamps_fail_with_column_value_and_layouts(spark, text):
    assert parse_column(spark, "seen_at", [text]) == [
        (
            None,
            [
                (
                    'ColumnDataType "seen_at" = "TIMESTAMP"',
                    f"seen_at: '{text}' is not a timestamp ({ANY_DATE_SHOWN})",
                )
            ],
        )
    ]


def test_impossible_dates_fail_as_dates(spark):
    assert_fails(
        spark,
        "day_on",
        ["31-02-2024", "2024-02-30"],
        'ColumnDataType "day_on" = "DATE"',
        f"a date ({ANY_DATE_SHOWN})",
    )


def test_the_reason_lists_the_columns_own_layouts(spark):
    raw = raw_frame(spark, VEHICLES, [{"vehicle_id": "a", "last_update_timestamp": "31-02-2024"}])
    (row,) = parse_landed(raw, VEHICLES).collect()
    assert row.last_update_timestamp is None
    assert [(f.rule, f.reason) for f in row[PARSE_FAILURES]] == [
        (
            'ColumnDataType "last_update_timestamp" = "TIMESTAMP"',
            "last_update_timestamp: '31-02-2024' is not a timestamp"
            " (dd-MM-yyyy HH:mm:ss | dd-MM-yyyy | yyyy-MM-dd HH:mm:ss | yyyy-MM-dd)",
        )
    ]


def test_layouts_outside_the_vehicle_formats_are_known_but_opt_in(spark):
    df = spark.createDataFrame([("27/03/2024",), ("2024-03-27",)], "v string")
    out = df.select(
        parse_value(F.col("v"), "date", ("dd/MM/yyyy",)).alias("slash"),
        parse_value(F.col("v"), "date", ANY_DATE).alias("any"),
    ).collect()
    assert [(r.slash, r.any) for r in out] == [
        (date(2024, 3, 27), None),
        (None, date(2024, 3, 27)),
    ]


def test_empty_and_blank_values_are_null_without_failure(spark):
    typed = [c.name for c in PROBE.columns if c.type != "string"]
    for text in ("", "   ", "\t", "\u00a0", " \t\u00a0 ", None):
        raw = raw_frame(spark, PROBE, [{"id": "x", **dict.fromkeys(typed, text)}])
        (row,) = parse_landed(raw, PROBE).collect()
        assert [row[c] for c in typed] == [None] * len(typed), repr(text)
        assert row[PARSE_FAILURES] == [], repr(text)


def test_values_are_trimmed_of_tabs_and_no_break_spaces(spark):
    assert_parses(spark, "n_int", [("7\t", 7), ("\u00a042 ", 42)])


def test_string_columns_are_kept_exactly(spark):
    values = ["  v1 ", "", "   ", 'a,b "quoted"\t', "ÄÖü €"]
    raw = raw_frame(spark, PROBE, [{"id": str(i), "note": v} for i, v in enumerate(values)])
    rows = parse_landed(raw, PROBE).select("id", "note", PARSE_FAILURES).collect()
    assert sorted((int(r.id), r.note, r[PARSE_FAILURES]) for r in rows) == [
        (i, v, []) for i, v in enumerate(values)
    ]
    (row,) = parse_landed(raw_frame(spark, PROBE, [{"id": " k "}]), PROBE).collect()
    assert row.id == " k "
    df = spark.createDataFrame([(" a ",), ("",)], "v string")
    out = df.select(parse_value(F.col("v"), "string"), parse_value(F.col("v"), "text"))
    assert [tuple(r) for r in out.collect()] == [(" a ", " a "), ("", "")]


def test_every_bad_value_of_a_row_is_a_failure_in_column_order(spark):
    raw = raw_frame(spark, PROBE, [{"id": "x", "flag": "maybe", "n_int": "one", "ratio": "2.5"}])
    (row,) = parse_landed(raw, PROBE).collect()
    assert [f.rule for f in row[PARSE_FAILURES]] == [
        'ColumnDataType "n_int" = "INTEGER"',
        'ColumnDataType "flag" = "BOOLEAN"',
    ]
    assert row.ratio == 2.5 and row.n_int is None and row.flag is None


def test_output_is_typed_spec_columns_raw_row_failures_and_file_seq(spark):
    raw = raw_frame(spark, PROBE, [{"id": "x", SOURCE_FILE_SEQ: 3}])
    parsed = parse_landed(raw, PROBE)
    assert parsed.columns == [
        *PROBE.column_names, RAW_ROW, PARSE_FAILURES, SOURCE_FILE_SEQ, SOURCE_ROW_SEQ
    ]  # fmt: skip
    assert [parsed.schema[c].dataType.simpleString() for c in PROBE.column_names] == [
        "string", "int", "bigint", "decimal(14,4)", "double", "boolean", "date", "timestamp",
        "string",
    ]  # fmt: skip
    assert parsed.first()[SOURCE_FILE_SEQ] == 3


def test_raw_row_of_a_good_row_is_its_text_and_file(spark):
    text = {
        "id": " v1",
        "n_int": "12.0",
        "n_big": "7",
        "amount": "12.34567",
        "ratio": "1e3",
        "flag": "True",
        "day_on": "1-2-2024",
        "seen_at": "31-01-2024 22:30:00",
        "note": 'say "hi", ok',
    }
    raw = raw_frame(spark, PROBE, [{**text, SOURCE_FILE: "probe/import-0002/p.csv"}])
    (row,) = parse_landed(raw, PROBE).collect()
    assert row[PARSE_FAILURES] == []
    assert json.loads(row[RAW_ROW]) == {**text, SOURCE_FILE: "probe/import-0002/p.csv"}
    assert list(json.loads(row[RAW_ROW])) == [*PROBE.column_names, SOURCE_FILE]


def test_a_malformed_record_is_one_failure_with_its_line(spark):
    line = 'v9,"unterminated,abc'
    raw = raw_frame(
        spark,
        PROBE,
        [
            {"id": "v9", "n_int": "abc", "flag": "maybe", CORRUPT_RECORD: line},
            {"id": "ok", "n_int": "1"},
        ],
    )
    rows = {r.id: r for r in parse_landed(raw, PROBE).collect()}
    bad = rows["v9"]
    assert [(f.rule, f.reason) for f in bad[PARSE_FAILURES]] == [
        (
            MALFORMED_RULE,
            f"malformed CSV record in {FILE}: its fields do not match the header"
            " (field count or quoting)",
        )
    ]
    assert MALFORMED_RULE == "WellFormedRecord"
    assert json.loads(bad[RAW_ROW]) == {SOURCE_FILE: FILE, "record": line}
    assert rows["ok"][PARSE_FAILURES] == [] and rows["ok"].n_int == 1


def test_parse_value_refuses_what_it_cannot_parse(spark):
    with pytest.raises(ValueError, match="needs its formats"):
        parse_value(F.col("v"), "timestamp")
    with pytest.raises(ValueError, match="unknown logical type"):
        parse_value(F.col("v"), "money")


# -- check_batch / prepare_batch of landed tables ------------------------------------------

VEHICLE_RULES = load_rules(VEHICLES)
TRANSACTION_RULES = load_rules(RENTAL_TRANSACTIONS)


def vehicle(vehicle_id, updated, seq=1, **text):
    row = {
        "active": "1",
        "vehicle_license_number": "5100001",
        "registration_name": "ACME CABS LLC",
        "license_type": "FOR HIRE VEHICLE",
        "expiration_date": "15-04-2026",
        "permit_license_number": "AB123",
        "certification_date": "2018-03-01",
        "vehicle_year": "2018",
        "base_telephone_number": "(212) 555-0100",
        "base_address": "1 MAIN ST NY 10001",
        "vehicle_id": vehicle_id,
        "last_update_timestamp": updated,
        "brand": "Toyota",
        "vehicle_type": "sedan",
        SOURCE_FILE: f"vehicles/import-{seq:04d}/vehicles.csv",
        SOURCE_FILE_SEQ: seq,
    }
    row.update(text)
    return row


def transaction(rental_id, seq=1, **text):
    row = {
        "rental_id": rental_id,
        "user_id": "u1",
        "vehicle_id": "v1",
        "rental_start_time": "2024-03-01 10:00:00",
        "rental_end_time": "2024-03-01 12:30:00",
        "pickup_location": "1",
        "dropoff_location": "2",
        "total_amount": "45.5",
        SOURCE_FILE: f"rental_transactions/import-{seq:04d}/rental_transactions.csv",
        SOURCE_FILE_SEQ: seq,
    }
    row.update(text)
    return row


def test_check_batch_puts_parse_failures_before_rule_failures(spark):
    raw = raw_frame(
        spark,
        VEHICLES,
        [
            vehicle(None, "2024-01-01", vehicle_year="19x9"),
            vehicle(None, "2024-01-01", **{CORRUPT_RECORD: "x,y"}),
            vehicle("v1", "2024-01-01"),
        ],
    )
    checked = check_batch(raw, VEHICLES, VEHICLE_RULES)
    assert PARSE_FAILURES not in checked.columns
    failures = sorted(
        [f.rule for f in r[FAILURES_COLUMN]] for r in checked.select(FAILURES_COLUMN).collect()
    )
    assert failures == [
        [],
        ['ColumnDataType "vehicle_year" = "INTEGER"', 'IsComplete "vehicle_id"'],
        # a malformed record fails for that alone, not also for its half-read fields
        [MALFORMED_RULE],
    ]


def test_the_checks_compile_into_generated_code(spark):
    """No higher-order function (filter, exists, transform of an array) decides whether a
    row passes: Spark evaluates one row by row in its interpreter, together with every
    expression under it (the parsing of each value), instead of in the generated code of
    the stage (quality/evaluate.py failure_array). Reject rows may use them: only their
    reasons are built with one."""
    raw = raw_frame(spark, VEHICLES, [vehicle("v1", "2024-01-01")])
    checked = check_batch(raw, VEHICLES, VEHICLE_RULES)
    plan = checked._jdf.queryExecution().optimizedPlan().toString()
    assert "lambdafunction" not in plan
    assert checked.select(FAILURES_COLUMN).first()[0] == []


def test_vehicle_batch_keeps_the_latest_version_of_each_vehicle(spark):
    rows = [
        # v1: the greatest timestamp wins although it comes from the earlier file
        vehicle("v1", "10-03-2024 08:00:00", seq=1, brand="newest"),
        vehicle("v1", "2024-03-01 08:00:00", seq=2, brand="older"),
        # v2: equal instants (in two layouts): the later landed file wins
        vehicle("v2", "05-03-2024 10:00:00", seq=1, brand="first-file"),
        vehicle("v2", "2024-03-05 10:00:00", seq=2, brand="second-file"),
        # v3: a version with a timestamp beats one without, whatever its file
        vehicle("v3", "01-01-2020", seq=1, brand="dated"),
        vehicle("v3", "", seq=2, brand="undated"),
        # rejects
        vehicle(None, "2024-01-01", brand="nokey"),
        vehicle("v4", "2024-01-01", vehicle_year="19x9"),
        vehicle("v5", "31-02-2024 10:00:00"),
        vehicle("v6", "2024-01-01", **{CORRUPT_RECORD: 'v6,"broken'}),
    ]
    raw = raw_frame(spark, VEHICLES, rows)
    # As run_load_raw does: check (parse, rules) once, then split. Without the cache every
    # action plans the whole parse again (seconds each, in constraint propagation).
    checked = check_batch(raw, VEHICLES, VEHICLE_RULES).cache()
    accepted, rejects = (df.cache() for df in split_batch(checked, VEHICLES, CTX))

    assert accepted.count() + rejects.count() == raw.count() == len(rows)
    assert accepted.columns == [*VEHICLES.column_names, *LOAD_COLUMNS, STALE_GUARD_COLUMN]
    assertDataFrameEqual(
        accepted.select(
            "vehicle_id",
            "brand",
            F.date_format("last_update_timestamp", "yyyy-MM-dd HH:mm:ss").alias("ts"),
            "load_batch_id",
            "load_run_date",
        ),
        spark.createDataFrame(
            [
                ("v1", "newest", "2024-03-10 08:00:00", "2024-05-01-01", date(2024, 5, 1)),
                ("v2", "second-file", "2024-03-05 10:00:00", "2024-05-01-01", date(2024, 5, 1)),
                ("v3", "dated", "2020-01-01 00:00:00", "2024-05-01-01", date(2024, 5, 1)),
            ],
            "vehicle_id string, brand string, ts string, load_batch_id string, load_run_date date",
        ),
    )
    assertDataFrameEqual(
        rejects.select("source_table", "record_key", "rule", "batch_id"),
        spark.createDataFrame(
            [
                ("vehicles", "v1", 'IsPrimaryKey "vehicle_id"', "2024-05-01-01"),
                ("vehicles", "v2", 'IsPrimaryKey "vehicle_id"', "2024-05-01-01"),
                ("vehicles", "v3", 'IsPrimaryKey "vehicle_id"', "2024-05-01-01"),
                ("vehicles", "NULL", 'IsComplete "vehicle_id"', "2024-05-01-01"),
                ("vehicles", "v4", 'ColumnDataType "vehicle_year" = "INTEGER"', "2024-05-01-01"),
                (
                    "vehicles",
                    "v5",
                    'ColumnDataType "last_update_timestamp" = "TIMESTAMP"',
                    "2024-05-01-01",
                ),
                ("vehicles", "v6", MALFORMED_RULE, "2024-05-01-01"),
            ],
            "source_table string, record_key string, rule string, batch_id string",
        ),
    )
    reasons = {(r.record_key, r.rule): r.reason for r in rejects.collect()}
    assert reasons[("NULL", 'IsComplete "vehicle_id"')] == "vehicle_id is NULL"
    assert reasons[("v4", 'ColumnDataType "vehicle_year" = "INTEGER"')] == (
        "vehicle_year: '19x9' is not an integer fitting int"
    )
    assert (
        "'31-02-2024 10:00:00'"
        in reasons[("v5", 'ColumnDataType "last_update_timestamp" = "TIMESTAMP"')]
    )
    superseded = {
        r.record_key: json.loads(r.raw_row)["brand"]
        for r in rejects.collect()
        if r.rule.startswith("IsPrimaryKey")
    }
    assert superseded == {"v1": "older", "v2": "first-file", "v3": "undated"}
    assert "superseded" in reasons[("v1", 'IsPrimaryKey "vehicle_id"')]

    # The stale guard carries the landed text of the accepted version, with its file.
    guard = {r.vehicle_id: json.loads(r[STALE_GUARD_COLUMN]) for r in accepted.collect()}
    assert guard["v1"]["last_update_timestamp"] == "10-03-2024 08:00:00"
    assert guard["v1"][SOURCE_FILE] == "vehicles/import-0001/vehicles.csv"
    assert guard["v2"][SOURCE_FILE] == "vehicles/import-0002/vehicles.csv"


def test_transaction_batch_later_file_wins_and_has_no_stale_guard(spark):
    rows = [
        transaction("r1", seq=1, total_amount="10"),
        transaction("r1", seq=2, total_amount="12.34567"),  # later file wins
        transaction("r2", seq=1, total_amount=" 450.0 ", pickup_location="3.0"),
        transaction(None, seq=1),
        transaction("r3", seq=1, total_amount="12,50"),
        transaction("r4", seq=2, rental_start_time="2024-01-01 25:00:00"),
        transaction("r5", seq=2, pickup_location=""),  # empty: NULL, accepted
    ]
    raw = raw_frame(spark, RENTAL_TRANSACTIONS, rows)
    accepted, rejects = (
        df.cache() for df in prepare_batch(raw, RENTAL_TRANSACTIONS, TRANSACTION_RULES, CTX)
    )

    assert accepted.count() + rejects.count() == len(rows)
    assert STALE_GUARD_COLUMN not in accepted.columns
    assert accepted.columns == [*RENTAL_TRANSACTIONS.column_names, *LOAD_COLUMNS]
    assertDataFrameEqual(
        accepted.select("rental_id", "pickup_location", "total_amount"),
        spark.createDataFrame(
            [
                ("r1", 1, Decimal("12.3457")),
                ("r2", 3, Decimal("450.0000")),
                ("r5", None, Decimal("45.5000")),
            ],
            "rental_id string, pickup_location int, total_amount decimal(14,4)",
        ),
    )
    reasons = {r.record_key: (r.rule, r.reason) for r in rejects.collect()}
    assert reasons == {
        "r1": (
            'IsPrimaryKey "rental_id"',
            "duplicate key in batch 2024-05-01-01: superseded by a later version",
        ),
        "NULL": ('IsComplete "rental_id"', "rental_id is NULL"),
        "r3": (
            'ColumnDataType "total_amount" = "DECIMAL"',
            "total_amount: '12,50' is not a number fitting decimal(14,4)",
        ),
        "r4": (
            'ColumnDataType "rental_start_time" = "TIMESTAMP"',
            f"rental_start_time: '2024-01-01 25:00:00' is not a timestamp ({ANY_DATE_SHOWN})",
        ),
    }
    superseded = json.loads(rejects.where("record_key = 'r1'").first().raw_row)
    assert superseded["total_amount"] == "10"


def test_within_one_file_the_later_line_of_a_key_wins_whatever_its_content(spark):
    # Content alone would order these two ways; the line order decides both the same way.
    rows = [
        transaction("r1", total_amount="999"),
        transaction("r1", total_amount="20"),
        transaction("r2", total_amount="20"),
        transaction("r2", total_amount="999"),
    ]
    raw = raw_frame(spark, RENTAL_TRANSACTIONS, rows)
    checked = check_batch(raw, RENTAL_TRANSACTIONS, ())
    accepted, rejects = split_batch(checked, RENTAL_TRANSACTIONS, CTX)
    kept = {r.rental_id: int(r.total_amount) for r in accepted.collect()}
    assert kept == {"r1": 20, "r2": 999}
    assert sorted(json.loads(r.raw_row)["total_amount"] for r in rejects.collect()) == ["20", "999"]
