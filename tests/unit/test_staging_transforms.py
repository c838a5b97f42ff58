from datetime import date, datetime
from decimal import Decimal

import pytest
from pyspark.sql import functions as F
from pyspark.testing import assertDataFrameEqual

from rental_analytics.quality import parse_ruleset
from rental_analytics.sources.tables import APARTMENTS, USER_VIEWING
from rental_analytics.transforms.common import cast_to_spec, fit_bytes, row_hash, spark_schema
from rental_analytics.transforms.staging import (
    SMALL_BATCH_ROWS,
    BatchContext,
    check_batch,
    keys_repeat,
    prepare_batch,
    rank_batch,
    split_ranked,
)

CTX = BatchContext("2024-05-01-01", date(2024, 5, 1), datetime(2024, 5, 1, 2, 0))
RULES = parse_ruleset('Rules = [ IsComplete "id", ColumnLength "title" <= 5 ]')


def apt(id_, title, modified):
    return (id_, title, "Zillow", Decimal("1.00"), "USD", date(2024, 1, 1), True, modified)


def test_every_row_is_accepted_or_rejected_once(spark):
    raw = spark.createDataFrame(
        [
            apt(1, "old", datetime(2024, 1, 1)),
            apt(1, "new", datetime(2024, 2, 1)),  # later version of key 1 wins
            apt(2, "toolong", datetime(2024, 1, 1)),
            apt(None, "nokey", datetime(2024, 1, 1)),
            apt(3, None, None),
        ],
        spark_schema(APARTMENTS),
    )
    accepted, rejects = prepare_batch(raw, APARTMENTS, RULES, CTX)
    assert accepted.count() + rejects.count() == raw.count()
    assertDataFrameEqual(
        accepted.select("id", "title", "load_batch_id", "load_run_date"),
        spark.createDataFrame(
            [
                (1, "new", "2024-05-01-01", date(2024, 5, 1)),
                (3, None, "2024-05-01-01", date(2024, 5, 1)),
            ],
            "id int, title string, load_batch_id string, load_run_date date",
        ),
    )
    assertDataFrameEqual(
        rejects.select("source_table", "record_key", "rule", "batch_id"),
        spark.createDataFrame(
            [
                ("apartments", "1", 'IsPrimaryKey "id"', "2024-05-01-01"),
                ("apartments", "2", 'ColumnLength "title" <= 5', "2024-05-01-01"),
                ("apartments", "NULL", 'IsComplete "id"', "2024-05-01-01"),
            ],
            "source_table string, record_key string, rule string, batch_id string",
        ),
    )
    reasons = {r.record_key: r.reason for r in rejects.collect()}
    assert "superseded" in reasons["1"]
    assert "length 7" in reasons["2"]


def test_title_wider_in_bytes_than_characters_is_rejected(spark):
    # 5 characters, more than 5 bytes of UTF-8: Redshift's varchar(5) would refuse each.
    titles = {10: "ééééé", 11: "東京", 12: "🚗🚗", 13: "abcde"}
    raw = spark.createDataFrame(
        [apt(k, t, datetime(2024, 1, 1)) for k, t in titles.items()], spark_schema(APARTMENTS)
    )
    accepted, rejects = prepare_batch(raw, APARTMENTS, RULES, CTX)
    assert [r.id for r in accepted.collect()] == [13]
    reasons = {r.record_key: r.reason for r in rejects.collect()}
    assert reasons == {
        "10": "title has length 10 bytes, expected <= 5",
        "11": "title has length 6 bytes, expected <= 5",
        "12": "title has length 8 bytes, expected <= 5",
    }


def test_fit_bytes_cuts_on_a_character_boundary(spark):
    df = spark.createDataFrame([("é" * 100,), ("ok",), ("🚗" * 30,)], "t string")
    rows = [r.t for r in df.select(fit_bytes(F.col("t"), 64).alias("t")).collect()]
    assert rows[1] == "ok"
    for row, original in zip(rows[::2], ("é" * 100, "🚗" * 30), strict=True):
        assert len(row.encode()) <= 64
        size = len(original.encode())
        assert row.endswith(f"...[cut: {size} bytes in all]")
        head = row[: -len(f"...[cut: {size} bytes in all]")]
        assert head and original.startswith(head) and "\ufffd" not in head


def test_reject_texts_fit_their_columns_in_bytes(spark):
    rules = parse_ruleset('Rules = [ ColumnLength "title" <= 5 ]')
    huge = "ü" * 40_000  # 80,000 bytes: the raw row alone is wider than varchar(65535)
    raw = spark.createDataFrame([apt(1, huge, datetime(2024, 1, 1))], spark_schema(APARTMENTS))
    _, rejects = prepare_batch(raw, APARTMENTS, rules, CTX)
    (reject,) = rejects.collect()
    assert len(reject.raw_row.encode()) <= 65535
    assert reject.raw_row.endswith("bytes in all]")
    assert len(reject.reason.encode()) <= 4096 and "80000 bytes" in reject.reason


def test_row_hash_tells_null_from_empty(spark):
    df = spark.createDataFrame(
        [("a", None), ("a", ""), ("a", "b"), ("a", "b"), (None, "a"), ("", "a")],
        "x string, y string",
    )
    hashes = [r.h for r in df.withColumn("h", row_hash(["x", "y"])).collect()]
    # a NULL moved to the other column, or become '', is another row
    assert len(set(hashes)) == 5 and hashes[2] == hashes[3]
    assert all(len(h) == 32 and int(h, 16) >= 0 for h in hashes)


def test_row_hash_changes_with_any_value_of_any_type(spark):
    from datetime import date, datetime
    from decimal import Decimal

    schema = (
        "i int, l bigint, d decimal(10,2), f double, b boolean, dt date, ts timestamp, s string"
    )
    base = (1, 2, Decimal("3.50"), 4.5, True, date(2024, 1, 2), datetime(2024, 1, 2, 3, 4, 5), "x")
    changed = [
        (2, 2, Decimal("3.50"), 4.5, True, date(2024, 1, 2), datetime(2024, 1, 2, 3, 4, 5), "x"),
        (1, 3, Decimal("3.50"), 4.5, True, date(2024, 1, 2), datetime(2024, 1, 2, 3, 4, 5), "x"),
        (1, 2, Decimal("3.51"), 4.5, True, date(2024, 1, 2), datetime(2024, 1, 2, 3, 4, 5), "x"),
        (1, 2, Decimal("3.50"), 4.6, True, date(2024, 1, 2), datetime(2024, 1, 2, 3, 4, 5), "x"),
        (1, 2, Decimal("3.50"), 4.5, False, date(2024, 1, 2), datetime(2024, 1, 2, 3, 4, 5), "x"),
        (1, 2, Decimal("3.50"), 4.5, True, date(2024, 1, 3), datetime(2024, 1, 2, 3, 4, 5), "x"),
        (1, 2, Decimal("3.50"), 4.5, True, date(2024, 1, 2), datetime(2024, 1, 2, 3, 4, 6), "x"),
        (1, 2, Decimal("3.50"), 4.5, True, date(2024, 1, 2), datetime(2024, 1, 2, 3, 4, 5), "y"),
        (None, 2, Decimal("3.50"), 4.5, True, date(2024, 1, 2), datetime(2024, 1, 2, 3, 4, 5), "x"),
    ]
    df = spark.createDataFrame([base, base, *changed], schema)
    hashes = [r.h for r in df.select(row_hash(df.columns).alias("h")).collect()]
    assert hashes[0] == hashes[1]
    assert len(set(hashes)) == 1 + len(changed)


def test_multi_column_key_dedup(spark):
    rules = parse_ruleset('Rules = [ IsComplete "user_id" ]')
    raw = spark.createDataFrame(
        [
            (1, 10, datetime(2024, 1, 1), True, "Reported"),
            (1, 10, datetime(2024, 1, 1), True, "Reported"),  # the inclusive re-read
            (1, 10, datetime(2024, 1, 2), False, None),
        ],
        spark_schema(USER_VIEWING),
    )
    accepted, rejects = prepare_batch(raw, USER_VIEWING, rules, CTX)
    assert accepted.count() == 2 and rejects.count() == 1


def test_cast_to_spec_orders_and_types_columns(spark):
    df = spark.createDataFrame(
        [("2", "1.5", "x")], "price string, id string, title string"
    ).withColumn("currency", F.lit(None))
    out = cast_to_spec(
        df.withColumn("source", F.lit("s"))
        .withColumn("listing_created_on", F.lit("2024-01-02"))
        .withColumn("is_active", F.lit("true"))
        .withColumn("last_modified_timestamp", F.lit("2024-01-02 03:04:05")),
        APARTMENTS,
    )
    assert out.columns == list(APARTMENTS.column_names)
    row = out.first()
    assert row.price == Decimal("2.00") and row.listing_created_on == date(2024, 1, 2)


REJECT_SAMPLES = [
    ('{"id":"1","name":"a"}', "IsPrimaryKey"),
    ('{"city":"Zürich – Genève 東京"}', 'ColumnValues "price" > 0'),
    ("", "IsComplete"),
]


def test_the_reject_row_hash_is_one_recipe_in_python_and_spark(spark):
    # quality/rejects.py: the importer hashes in Python, staging in Spark; a reject recorded
    # by both must have the one hash, or a rerun would record it twice.
    from rental_analytics.quality.rejects import ROW_HASH_SEPARATOR
    from rental_analytics.quality.rejects import row_hash as reject_row_hash

    df = spark.createDataFrame(REJECT_SAMPLES, "raw_row string, rule string")
    hashed = df.select(
        "raw_row", "rule", F.md5(F.concat_ws(ROW_HASH_SEPARATOR, "raw_row", "rule")).alias("h")
    ).collect()
    assert {(r.raw_row, r.rule): r.h for r in hashed} == {
        (raw, rule): reject_row_hash(raw, rule) for raw, rule in REJECT_SAMPLES
    }


def test_a_batch_without_repeated_keys_splits_alike_without_ranking(spark):
    raw = spark.createDataFrame(
        [
            apt(1, "one", datetime(2024, 1, 1)),
            apt(2, "toolong", datetime(2024, 1, 1)),
            apt(None, "nokey", datetime(2024, 1, 1)),
            apt(3, None, None),
        ],
        spark_schema(APARTMENTS),
    )
    checked = check_batch(raw, APARTMENTS, RULES)
    assert not keys_repeat(checked, APARTMENTS)
    assert not keys_repeat(checked, APARTMENTS, rows=4)  # looked at in the driver
    ranked, unranked = (
        split_ranked(rank_batch(checked, APARTMENTS, keys_unique=u), APARTMENTS, CTX)
        for u in (False, True)
    )
    for with_rank, without in zip(ranked, unranked, strict=True):
        assert with_rank.count() == without.count() > 0
        assertDataFrameEqual(with_rank, without)


@pytest.mark.parametrize("rows", [None, 3, SMALL_BATCH_ROWS + 1], ids=["unknown", "small", "large"])
def test_a_key_on_two_rows_is_a_repeat_even_when_one_fails_a_rule(spark, rows):
    raw = spark.createDataFrame(
        [
            apt(1, "one", datetime(2024, 1, 1)),
            apt(2, "two", datetime(2024, 1, 1)),
            apt(1, "toolong", datetime(2024, 2, 1)),
        ],
        spark_schema(APARTMENTS),
    )
    assert keys_repeat(check_batch(raw, APARTMENTS, RULES), APARTMENTS, rows)


@pytest.mark.parametrize("rows", [None, 3], ids=["counted by Spark", "compared in the driver"])
def test_two_rows_without_a_key_are_a_repeat_either_way(spark, rows):
    raw = spark.createDataFrame(
        [apt(None, "one", None), apt(2, "two", None), apt(None, "three", None)],
        spark_schema(APARTMENTS),
    )
    checked = check_batch(raw, APARTMENTS, RULES)
    assert keys_repeat(checked, APARTMENTS, rows)
    assert not keys_repeat(checked.where(F.col("title") != "three"), APARTMENTS, rows)
