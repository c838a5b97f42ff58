"""The DQDL evaluator on tiny literal DataFrames: each row's failures with their reasons,
and the dataset-level verdicts with their messages.

Values are compared as collected rows: ``pyspark.testing`` cannot be imported next to the
pandas 3 in this environment (pyspark 3.5 imports ``pandas.tseries.frequencies.DateOffset``).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest

from rental_analytics.quality import DatasetFailure, parse_ruleset
from rental_analytics.quality.evaluate import (
    FAILURES_COLUMN,
    FAILURES_TYPE,
    evaluate_dataset,
    with_row_failures,
)


def rules(*texts: str):
    return parse_ruleset("Rules = [\n" + ",\n".join(texts) + "\n]", "test.dqdl")


def failures_by_id(df, *rule_texts: str) -> dict:
    """{id: [(rule, reason), ...]} for every row, in row-id order."""
    checked = with_row_failures(df, rules(*rule_texts))
    return {
        row["id"]: [(f["rule"], f["reason"]) for f in row[FAILURES_COLUMN]]
        for row in checked.orderBy("id").collect()
    }


def reasons_by_id(df, *rule_texts: str) -> dict:
    return {k: [reason for _, reason in v] for k, v in failures_by_id(df, *rule_texts).items()}


# ------------------------------------------------------------------------- row level


def test_is_complete_fails_only_on_null(spark):
    df = spark.createDataFrame(
        [(1, "a"), (2, ""), (3, "   "), (4, None)], "id int, booking_ref string"
    )
    assert failures_by_id(df, 'IsComplete "booking_ref"') == {
        1: [],
        2: [],
        3: [],
        4: [('IsComplete "booking_ref"', "booking_ref is NULL")],
    }


def test_decimal_comparison_with_boundary_and_null(spark):
    df = spark.createDataFrame(
        [(1, Decimal("-3.00")), (2, Decimal("0.00")), (3, Decimal("0.01")), (4, None)],
        "id int, price decimal(10,2)",
    )
    assert failures_by_id(df, 'ColumnValues "price" >= 0') == {
        1: [('ColumnValues "price" >= 0', "price is -3.00, expected >= 0")],
        2: [],
        3: [],
        4: [],
    }


@pytest.mark.parametrize(
    ("rule", "failing_ids"),
    [
        ('ColumnValues "n" = 5', [1, 3]),
        ('ColumnValues "n" != 5', [2]),
        ('ColumnValues "n" > 5', [1, 2]),
        ('ColumnValues "n" >= 5', [1]),
        ('ColumnValues "n" < 5', [2, 3]),
        ('ColumnValues "n" <= 5', [3]),
        ('ColumnValues "n" between 4 and 5', [3]),
        ('ColumnValues "n" between 5 and 6', [1]),
        ('ColumnValues "n" in [5, 6]', [1]),
        ('ColumnValues "n" not in [5, 6]', [2, 3]),
    ],
)
def test_every_operator_on_integers_with_boundaries(spark, rule, failing_ids):
    df = spark.createDataFrame([(1, 4), (2, 5), (3, 6), (4, None)], "id int, n int")
    failing = [k for k, v in failures_by_id(df, rule).items() if v]
    assert failing == failing_ids


def test_double_column_compared_with_decimal_literal(spark):
    df = spark.createDataFrame([(1, 0.5), (2, 0.49), (3, 1.0)], "id int, ratio double")
    assert reasons_by_id(df, 'ColumnValues "ratio" between 0.5 and 1.0') == {
        1: [],
        2: ["ratio is 0.49, expected between 0.5 and 1.0"],
        3: [],
    }


def test_in_list_with_non_ascii_strings(spark):
    df = spark.createDataFrame(
        [(1, "EUR"), (2, "GBP"), (3, "₹INR"), (4, None), (5, "eur")], "id int, currency string"
    )
    assert reasons_by_id(df, 'ColumnValues "currency" in ["EUR", "INR", "USD"]') == {
        1: [],
        2: ["currency is 'GBP', expected one of ['EUR','INR','USD']"],
        3: ["currency is '₹INR', expected one of ['EUR','INR','USD']"],
        4: [],
        5: ["currency is 'eur', expected one of ['EUR','INR','USD']"],
    }
    assert reasons_by_id(df, 'ColumnValues "currency" in ["₹INR", "GBP"]')[3] == []


def test_not_in_list(spark):
    df = spark.createDataFrame(
        [(1, "confirmed"), (2, "deleted"), (3, None)], "id int, status string"
    )
    assert reasons_by_id(df, 'ColumnValues "status" not in ["deleted", "spam"]') == {
        1: [],
        2: ["status is 'deleted', expected none of ['deleted','spam']"],
        3: [],
    }


def test_numbers_in_a_list_match_string_columns_as_text(spark):
    df = spark.createDataFrame([(1, "3"), (2, "a"), (3, "3.0")], "id int, code string")
    assert reasons_by_id(df, 'ColumnValues "code" in ["a", "b", 3]') == {
        1: [],
        2: [],
        3: ["code is '3.0', expected one of ['a','b',3]"],
    }


def test_date_column_compared_with_date_literal(spark):
    df = spark.createDataFrame(
        [(1, date(2023, 12, 31)), (2, date(2024, 1, 1)), (3, date(2024, 12, 31)), (4, None)],
        "id int, checkin_date date",
    )
    assert reasons_by_id(df, 'ColumnValues "checkin_date" >= "2024-01-01"') == {
        1: ["checkin_date is 2023-12-31, expected >= 2024-01-01"],
        2: [],
        3: [],
        4: [],
    }
    assert reasons_by_id(
        df, 'ColumnValues "checkin_date" between "2024-01-01" and "2024-06-30"'
    ) == {
        1: ["checkin_date is 2023-12-31, expected between 2024-01-01 and 2024-06-30"],
        2: [],
        3: ["checkin_date is 2024-12-31, expected between 2024-01-01 and 2024-06-30"],
        4: [],
    }


def test_timestamp_column_compared_by_calendar_date(spark):
    df = spark.createDataFrame(
        [
            (1, datetime(2024, 1, 31, 23, 59, 59)),
            (2, datetime(2024, 2, 1, 0, 0, 0)),
            (3, datetime(2023, 12, 31, 23, 59, 59)),
        ],
        "id int, viewed_at timestamp",
    )
    assert reasons_by_id(df, 'ColumnValues "viewed_at" between "2024-01-01" and "2024-01-31"') == {
        1: [],
        2: ["viewed_at is 2024-02-01 00:00:00, expected between 2024-01-01 and 2024-01-31"],
        3: ["viewed_at is 2023-12-31 23:59:59, expected between 2024-01-01 and 2024-01-31"],
    }


def test_date_literal_against_a_string_column_compares_text(spark):
    df = spark.createDataFrame([(1, "2024-01-01"), (2, "2023-12-31")], "id int, day string")
    assert reasons_by_id(df, 'ColumnValues "day" >= "2024-01-01"') == {
        1: [],
        2: ["day is '2023-12-31', expected >= 2024-01-01"],
    }


def test_matches_needs_the_whole_value_to_match(spark):
    df = spark.createDataFrame(
        [(1, "75001"), (2, "75001x"), (3, "x75001"), (4, "7500"), (5, None)],
        "id int, zip string",
    )
    assert reasons_by_id(df, r'ColumnValues "zip" matches "\d{5}"') == {
        1: [],
        2: ["zip is '75001x', expected to match '\\d{5}'"],
        3: ["zip is 'x75001', expected to match '\\d{5}'"],
        4: ["zip is '7500', expected to match '\\d{5}'"],
        5: [],
    }


def test_matches_alternation_is_anchored_as_a_whole(spark):
    df = spark.createDataFrame([(1, "ab"), (2, "cd"), (3, "abcd")], "id int, s string")
    failing = [k for k, v in reasons_by_id(df, 'ColumnValues "s" matches "ab|cd"').items() if v]
    assert failing == [3]


def test_column_length_counts_utf8_bytes_and_lets_null_pass(spark):
    # Redshift's VARCHAR(n) holds n bytes of UTF-8: "Zürich" is 6 characters but 7 bytes,
    # "東京" 2 characters but 6 bytes, and "🚗" one character but 4 bytes.
    df = spark.createDataFrame(
        [(1, "x" * 255), (2, "x" * 300), (3, "Zürich"), (4, None), (5, ""), (6, "é" * 128)],
        "id int, title string",
    )
    assert failures_by_id(df, 'ColumnLength "title" <= 255') == {
        1: [],
        2: [('ColumnLength "title" <= 255', "title has length 300 bytes, expected <= 255")],
        3: [],
        4: [],
        5: [],
        6: [('ColumnLength "title" <= 255', "title has length 256 bytes, expected <= 255")],
    }
    assert reasons_by_id(df, 'ColumnLength "title" between 1 and 6') == {
        1: ["title has length 255 bytes, expected between 1 and 6"],
        2: ["title has length 300 bytes, expected between 1 and 6"],
        3: ["title has length 7 bytes, expected between 1 and 6"],
        4: [],
        5: ["title has length 0 bytes, expected between 1 and 6"],
        6: ["title has length 256 bytes, expected between 1 and 6"],
    }
    wide = spark.createDataFrame([(1, "東京"), (2, "🚗"), (3, "abc")], "id int, title string")
    assert reasons_by_id(wide, 'ColumnLength "title" <= 3') == {
        1: ["title has length 6 bytes, expected <= 3"],
        2: ["title has length 4 bytes, expected <= 3"],
        3: [],
    }


def test_long_values_are_cut_in_reasons(spark):
    df = spark.createDataFrame([(1, "é" * 150)], "id int, title string")
    (reason,) = reasons_by_id(df, 'ColumnValues "title" = "short"')[1]
    assert reason == "title is '" + "é" * 100 + "...', expected = 'short'"


def test_every_failed_rule_is_listed_in_rule_order(spark):
    df = spark.createDataFrame(
        [(1, None, Decimal("-1.50"), "GBP"), (2, 7, Decimal("9.99"), "EUR")],
        "id int, booking_id int, price decimal(6,2), currency string",
    )
    assert failures_by_id(
        df,
        'IsComplete "booking_id"',
        'ColumnValues "price" >= 0',
        'ColumnValues "currency" in ["EUR"]',
        'ColumnLength "currency" <= 3',
    ) == {
        1: [
            ('IsComplete "booking_id"', "booking_id is NULL"),
            ('ColumnValues "price" >= 0', "price is -1.50, expected >= 0"),
            ('ColumnValues "currency" in ["EUR"]', "currency is 'GBP', expected one of ['EUR']"),
        ],
        2: [],
    }


def test_dataset_level_rules_are_not_row_failures(spark):
    df = spark.createDataFrame([(1, None), (1, -1)], "id int, n int")
    checked = with_row_failures(
        df,
        rules(
            "RowCount > 5",
            'IsUnique "id"',
            'IsComplete "n" with threshold > 0.9',
            'ColumnValues "n" > 0 with threshold > 0.9',
        ),
    )
    assert [row[FAILURES_COLUMN] for row in checked.collect()] == [[], []]
    assert checked.schema[FAILURES_COLUMN].dataType == FAILURES_TYPE


def test_failures_column_has_the_same_type_with_and_without_rules(spark):
    df = spark.createDataFrame([(1, "a")], "id int, s string")
    with_rules = with_row_failures(df, rules('IsComplete "s"'))
    without = with_row_failures(df, ())
    assert with_rules.schema[FAILURES_COLUMN].dataType == FAILURES_TYPE
    assert without.schema[FAILURES_COLUMN].dataType == FAILURES_TYPE
    assert without.columns == ["id", "s", FAILURES_COLUMN]
    assert [tuple(r) for r in without.collect()] == [(1, "a", [])]


def test_column_names_are_taken_literally(spark):
    df = spark.createDataFrame([(1, None, 5)], "id int, `order-id` int, `a.b` int")
    assert reasons_by_id(df, 'IsComplete "order-id"', 'ColumnValues "a.b" < 5') == {
        1: ["order-id is NULL", "a.b is 5, expected < 5"],
    }


def test_missing_column_names_the_rule(spark):
    df = spark.createDataFrame([(1,)], "id int")
    with pytest.raises(ValueError, match=r"rule 'IsComplete \"booking_id\"': column 'booking_id'"):
        with_row_failures(df, rules('IsComplete "booking_id"'))


@pytest.mark.parametrize(
    ("rule", "schema", "why"),
    [
        ('ColumnValues "n" = "five"', "id int, n int", "int; cannot compare it with 'five'"),
        ('ColumnValues "n" >= "2024-01-01"', "id int, n int", "int; cannot compare"),
        ('ColumnValues "d" > 5', "id int, d date", "date; cannot compare it with 5"),
        ('ColumnValues "s" > 5', "id int, s string", "string; cannot compare it with 5"),
        ('ColumnValues "n" matches "[0-9]+"', "id int, n int", "matches applies to string"),
        ('ColumnLength "n" <= 3', "id int, n int", "ColumnLength applies to string"),
    ],
)
def test_type_mismatch_names_the_rule(spark, rule, schema, why):
    df = spark.createDataFrame([], schema)
    with pytest.raises(ValueError, match="rule '") as caught:
        with_row_failures(df, rules(rule))
    assert why in str(caught.value)


# --------------------------------------------------------------------- dataset level


def test_passing_dataset_has_no_failures(spark):
    df = spark.createDataFrame(
        [(1, "a", Decimal("1.00")), (2, "b", Decimal("2.00"))],
        "id int, s string, price decimal(10,2)",
    )
    assert (
        evaluate_dataset(
            df,
            rules(
                "RowCount > 0",
                "RowCount between 2 and 2",
                "ColumnCount = 3",
                'IsUnique "id"',
                'IsPrimaryKey "id" "s"',
                'IsComplete "s" with threshold = 1.0',
                'ColumnValues "price" >= 0 with threshold >= 1.0',
                # row-level rules are with_row_failures' business
                'ColumnValues "price" > 100',
            ),
            "t",
        )
        == []
    )


def test_row_count_on_an_empty_batch(spark):
    df = spark.createDataFrame([], "id int")
    assert evaluate_dataset(df, rules("RowCount > 0"), "bookings") == [
        DatasetFailure(
            table="bookings",
            rule="RowCount > 0",
            threshold="> 0",
            observed=0,
            message="bookings: rule 'RowCount > 0' failed: observed 0 (threshold > 0)",
        )
    ]


def test_row_count_and_column_count_bounds(spark):
    df = spark.createDataFrame([(1, 2), (3, 4), (5, 6)], "a int, b int")
    failed = evaluate_dataset(
        df,
        rules(
            "RowCount between 1 and 3",
            "RowCount between 4 and 10",
            "RowCount <= 2",
            "ColumnCount = 2",
            "ColumnCount > 2",
        ),
        "t",
    )
    assert [(f.rule, f.threshold, f.observed) for f in failed] == [
        ("RowCount between 4 and 10", "between 4 and 10", 3),
        ("RowCount <= 2", "<= 2", 3),
        ("ColumnCount > 2", "> 2", 2),
    ]


def test_is_unique_ignores_nulls_and_counts_duplicates(spark):
    df = spark.createDataFrame(
        [(1, "a"), (2, "a"), (3, "a"), (4, "b"), (5, None), (6, None)], "id int, ref string"
    )
    assert evaluate_dataset(df, rules('IsUnique "id"'), "t") == []
    (failure,) = evaluate_dataset(df, rules('IsUnique "ref"'), "apartments")
    assert failure.observed == 0.5  # 2 distinct values among 4 non-null
    assert failure.message == (
        "apartments: rule 'IsUnique \"ref\"' failed: observed 0.5000 (threshold = 1.0); "
        "2 duplicated values"
    )


def test_is_primary_key_needs_complete_and_distinct_keys(spark):
    df = spark.createDataFrame(
        [
            (1, 10, datetime(2024, 1, 1, 9)),
            (1, 10, datetime(2024, 1, 1, 9)),  # duplicate key
            (1, 11, datetime(2024, 1, 1, 9)),
            (2, None, datetime(2024, 1, 1, 9)),  # NULL key column
        ],
        "user_id int, apartment_id int, viewed_at timestamp",
    )
    (failure,) = evaluate_dataset(
        df, rules('IsPrimaryKey "user_id" "apartment_id" "viewed_at"'), "user_viewing"
    )
    assert failure.observed == 0.5  # 2 distinct complete keys among 4 rows
    assert failure.threshold == "= 1.0"
    assert failure.message == (
        'user_viewing: rule \'IsPrimaryKey "user_id" "apartment_id" "viewed_at"\' failed: '
        "observed 0.5000 (threshold = 1.0); 1 duplicated key, 1 row with a NULL key column"
    )
    assert (
        evaluate_dataset(df.where("apartment_id = 11"), rules('IsPrimaryKey "user_id"'), "t") == []
    )


def test_threshold_rule_failing(spark):
    # 9 of 10 prices pass (NULL counts as passing), 0.9 is not > 0.95.
    prices = [Decimal("-0.01")] + [Decimal(i) for i in range(8)] + [None]
    df = spark.createDataFrame(list(enumerate(prices)), "id int, total_price decimal(10,2)")
    (failure,) = evaluate_dataset(
        df, rules('ColumnValues "total_price" >= 0 with threshold > 0.95'), "bookings"
    )
    assert failure == DatasetFailure(
        table="bookings",
        rule='ColumnValues "total_price" >= 0 with threshold > 0.95',
        threshold="> 0.95",
        observed=0.9,
        message=(
            "bookings: rule 'ColumnValues \"total_price\" >= 0 with threshold > 0.95' failed: "
            "observed 0.9000 (threshold > 0.95); 9 of 10 rows pass"
        ),
    )


def test_threshold_rule_passing_at_the_boundary(spark):
    prices = [Decimal("-0.01")] + [Decimal(i) for i in range(9)]
    df = spark.createDataFrame(list(enumerate(prices)), "id int, total_price decimal(10,2)")
    assert (
        evaluate_dataset(
            df, rules('ColumnValues "total_price" >= 0 with threshold >= 0.9'), "bookings"
        )
        == []
    )


def test_is_complete_threshold_counts_null_as_failing(spark):
    df = spark.createDataFrame([(1, "a@x"), (2, None), (3, ""), (4, None)], "id int, email string")
    (failure,) = evaluate_dataset(df, rules('IsComplete "email" with threshold > 0.5'), "users")
    assert (failure.observed, failure.threshold) == (0.5, "> 0.5")
    assert evaluate_dataset(df, rules('IsComplete "email" with threshold >= 0.5'), "users") == []


def test_column_length_and_matches_thresholds(spark):
    df = spark.createDataFrame(
        [(1, "75001"), (2, "7500"), (3, "Zürich"), (4, None)], "id int, zip string"
    )
    failed = evaluate_dataset(
        df,
        rules(
            'ColumnLength "zip" = 5 with threshold >= 0.5',  # 75001 and NULL: 0.5
            r'ColumnValues "zip" matches "\d{5}" with threshold > 0.5',  # 0.5
        ),
        "t",
    )
    assert [(f.rule, f.observed) for f in failed] == [
        (r'ColumnValues "zip" matches "\d{5}" with threshold > 0.5', 0.5)
    ]


def test_threshold_on_an_empty_batch_observes_one(spark):
    df = spark.createDataFrame([], "id int, price double")
    assert evaluate_dataset(df, rules('ColumnValues "price" > 0 with threshold > 0.95'), "t") == []


def test_all_dataset_failures_in_rule_order(spark):
    df = spark.createDataFrame([(1, None), (1, None)], "id int, s string")
    failed = evaluate_dataset(
        df,
        rules(
            'IsUnique "id"',
            "RowCount > 2",
            "ColumnCount = 3",
            'IsComplete "s" with threshold > 0',
        ),
        "t",
    )
    assert [(f.rule, f.observed) for f in failed] == [
        ('IsUnique "id"', 0.5),
        ("RowCount > 2", 2),
        ("ColumnCount = 3", 2),
        ('IsComplete "s" with threshold > 0', 0.0),
    ]


def test_referential_integrity_counts_values_missing_from_the_reference(spark):
    bookings = spark.createDataFrame(
        [(1, 10), (2, 10), (3, 11), (4, 12), (5, 12), (6, 12), (7, None)],
        "booking_id int, apartment_id int",
    )
    apartments = spark.createDataFrame([(10,), (11,), (11,)], "id int")
    refs = {"apartments": apartments}
    (failure,) = evaluate_dataset(
        bookings, rules('ReferentialIntegrity "apartment_id" "apartments.id" = 1.0'),
        "bookings", refs,
    )  # fmt: skip
    # 3 of 7 rows reference an apartment that is not there; the NULL references nothing
    assert failure.observed == pytest.approx(4 / 7)
    assert "1 value in 3 rows not found in apartments.id" in failure.message
    assert (
        evaluate_dataset(
            bookings,
            rules('ReferentialIntegrity "apartment_id" "apartments.id" >= 0.5'),
            "bookings",
            refs,
        )  # fmt: skip
        == []
    )


def test_referential_integrity_without_its_reference_names_it(spark):
    df = spark.createDataFrame([(1,)], "apartment_id int")
    with pytest.raises(ValueError, match="needs the table 'apartments'"):
        evaluate_dataset(
            df, rules('ReferentialIntegrity "apartment_id" "apartments.id" = 1.0'), "bookings"
        )


def test_dataset_rule_on_missing_column_names_the_rule(spark):
    df = spark.createDataFrame([(1,)], "id int")
    with pytest.raises(ValueError, match="rule 'IsUnique \"booking_id\"'"):
        evaluate_dataset(df, rules('IsUnique "booking_id"'), "bookings")
