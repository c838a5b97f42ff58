"""The SQL the warehouse evaluator generates (rental_analytics.quality.warehouse.table_query).

No database here: the catalog is literal, the checks read the text. Running it is the job of
tests/integration/test_dq_warehouse.py.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest

from rental_analytics.quality.dqdl import parse_ruleset
from rental_analytics.quality.verdict import DatasetFailure
from rental_analytics.quality.warehouse import (
    QualityGateError,
    load_rulesets,
    reference_of,
    split_table_name,
    table_query,
)
from rental_analytics.warehouse.sqltext import quote_identifier

TABLE = "raw_data.stg_items"
CATALOG = {
    TABLE: {
        "item_id": "integer",
        "code": "character varying",
        "grade": "character",
        "price": "numeric",
        "weight": "double precision",
        "created_on": "date",
        "seen_at": "timestamp without time zone",
        "is_active": "boolean",
        "load_batch_id": "character varying",
    },
    "raw_data.load_batches": {"source_table": "character varying", "batch_id": "character varying"},
    "curated.parents": {"parent_id": "integer"},
}


def query(*rules: str):
    return table_query(TABLE, parse_ruleset(f"Rules = [{', '.join(rules)}]"), CATALOG)


def flat(sql: str) -> str:
    return " ".join(sql.split())


def test_one_statement_reads_the_quoted_table_and_counts_rows():
    q = query("RowCount > 0", "ColumnCount = 9")
    assert flat(q.sql) == (
        'with stats as ( select count(*) as row_count from "raw_data"."stg_items" ) '
        "select * from stats"
    )
    assert q.params == {}


def test_is_complete_counts_non_null_rows():
    q = query('IsComplete "code"', 'IsComplete "price" with threshold >= 0.9')
    sql = flat(q.sql)
    assert 'count(case when "code" is not null then 1 end) as r0_passing' in sql
    assert 'count(case when "price" is not null then 1 end) as r1_passing' in sql
    assert "0.9" not in sql  # thresholds are judged in Python, not in SQL


def test_number_comparison_binds_the_value_with_its_scale():
    q = query('ColumnValues "price" >= 0.50', 'ColumnValues "item_id" != 7')
    sql = flat(q.sql)
    assert '("price" is null or "price" >= cast(%(r0_v0)s as numeric(38, 2)))' in sql
    assert '("item_id" is null or "item_id" <> cast(%(r1_v0)s as numeric(38, 0)))' in sql
    assert q.params == {"r0_v0": Decimal("0.50"), "r1_v0": 7}
    assert "0.50" not in sql and " 7" not in sql


def test_between_on_a_double_column():
    q = query('ColumnValues "weight" between 1 and 2.5')
    assert (
        '("weight" is null or "weight" >= cast(%(r0_v0)s as numeric(38, 0))'
        ' and "weight" <= cast(%(r0_v1)s as numeric(38, 1)))'
    ) in flat(q.sql)
    assert q.params == {"r0_v0": 1, "r0_v1": Decimal("2.5")}


def test_dates_compare_as_dates_and_timestamps_by_calendar_day():
    q = query(
        'ColumnValues "created_on" >= "2024-01-01"',
        'ColumnValues "seen_at" between "2024-01-01" and "2024-01-31"',
    )
    sql = flat(q.sql)
    assert '"created_on" >= cast(%(r0_v0)s as date)' in sql
    assert (
        'cast("seen_at" as date) >= cast(%(r1_v0)s as date)'
        ' and cast("seen_at" as date) <= cast(%(r1_v1)s as date)'
    ) in sql
    assert q.params == {
        "r0_v0": date(2024, 1, 1),
        "r1_v0": date(2024, 1, 1),
        "r1_v1": date(2024, 1, 31),
    }


def test_in_and_not_in_lists_bind_every_value():
    q = query('ColumnValues "code" in ["A", "B"]', 'ColumnValues "code" not in ["Z", 5]')
    sql = flat(q.sql)
    assert '("code" is null or "code" in (%(r0_v0)s, %(r0_v1)s))' in sql
    assert '("code" is null or "code" not in (%(r1_v0)s, %(r1_v1)s))' in sql
    # a number compared with a string column is compared as text, as on Spark
    assert q.params == {"r0_v0": "A", "r0_v1": "B", "r1_v0": "Z", "r1_v1": "5"}


def test_a_date_against_a_string_column_compares_text():
    q = query('ColumnValues "code" = "2024-01-01"')
    assert '"code" = %(r0_v0)s' in flat(q.sql)
    assert q.params == {"r0_v0": "2024-01-01"}


def test_matches_is_a_posix_regex_anchored_to_the_whole_value():
    q = query('ColumnValues "code" matches "A|B[0-9]"')
    # A string literal, as Redshift documents for ~ (pattern-matching-conditions-posix).
    assert """("code" is null or "code" ~ '^(A|B[0-9])$')""" in flat(q.sql)
    assert q.params == {}


def test_matches_pattern_is_an_escaped_literal():
    q = query("""ColumnValues "code" matches "it's 100%|x" """)
    assert """"code" ~ '^(it''s 100%%|x)$'""" in flat(q.sql)


def test_matches_pattern_with_a_backslash_is_refused():
    with pytest.raises(ValueError, match="backslash"):
        query(r'ColumnValues "code" matches "B\\d"')


def test_column_length_counts_bytes_with_integer_bounds():
    q = query('ColumnLength "code" between 2 and 8', 'ColumnLength "grade" = 1')
    sql = flat(q.sql)
    assert (
        '("code" is null or octet_length("code") >= cast(%(r0_v0)s as integer)'
        ' and octet_length("code") <= cast(%(r0_v1)s as integer))'
    ) in sql
    # grade is char(n): its padding does not count
    assert '("grade" is null or octet_length(rtrim("grade")) = cast(%(r1_v0)s as integer))' in sql
    assert q.params == {"r0_v0": 2, "r0_v1": 8, "r1_v0": 1}


def test_is_unique_counts_non_null_and_distinct_values():
    sql = flat(query('IsUnique "code"').sql)
    assert 'count("code") as r0_non_null' in sql
    assert 'count(distinct "code") as r0_distinct' in sql


def test_single_column_primary_key_in_the_aggregate():
    sql = flat(query('IsPrimaryKey "item_id"').sql)
    assert 'count(case when "item_id" is not null then 1 end) as r0_complete' in sql
    assert 'count(distinct "item_id") as r0_distinct' in sql
    assert "cross join" not in sql


def test_multi_column_primary_key_counts_distinct_keys_in_a_subquery():
    sql = flat(query('IsPrimaryKey "item_id" "seen_at"').sql)
    complete = '"item_id" is not null and "seen_at" is not null'
    assert f"count(case when {complete} then 1 end) as r0_complete" in sql
    assert (
        "r0_keys as ( select count(*) as r0_distinct from ("
        f'select distinct "item_id", "seen_at" from "raw_data"."stg_items" where {complete}'
        ") as distinct_keys )"
    ) in sql
    assert sql.endswith("select * from stats cross join r0_keys")
    # Redshift has no count(distinct a, b); PostgreSQL's row form is not Redshift's either
    assert not re.search(r"count\(distinct [^)]*,", sql)
    assert "count(distinct (" not in sql


def test_referential_integrity_anti_joins_the_reference():
    q = query('ReferentialIntegrity "load_batch_id" "load_batches.batch_id" = 1.0')
    sql = flat(q.sql)
    assert (
        "r0_unmatched as ( select count(*) as r0_missing_rows,"
        ' count(distinct src."load_batch_id") as r0_missing_values'
        ' from "raw_data"."stg_items" as src'
        ' where src."load_batch_id" is not null and not exists ('
        'select 1 from "raw_data"."load_batches" as ref'
        ' where ref."batch_id" = src."load_batch_id") )'
    ) in sql
    assert sql.endswith("select * from stats cross join r0_unmatched")
    assert q.params == {}


def test_reference_may_name_another_schema_or_default_to_the_tables():
    (full, short) = parse_ruleset(
        'Rules = [ReferentialIntegrity "item_id" "curated.parents.parent_id" >= 0.9,'
        ' ReferentialIntegrity "load_batch_id" "load_batches.batch_id" = 1.0]'
    )
    assert reference_of(full, TABLE) == ("curated.parents", "parent_id")
    assert reference_of(short, TABLE) == ("raw_data.load_batches", "batch_id")
    assert '"curated"."parents" as ref' in flat(table_query(TABLE, (full,), CATALOG).sql)


def test_every_rule_of_a_table_in_one_statement():
    q = query(
        "RowCount > 0",
        'IsPrimaryKey "item_id" "seen_at"',
        'ColumnValues "price" >= 0',
        'ReferentialIntegrity "load_batch_id" "load_batches.batch_id" = 1.0',
    )
    assert ";" not in q.sql
    assert flat(q.sql).count('from "raw_data"."stg_items"') == 3  # aggregate, keys, anti-join
    assert flat(q.sql).endswith("select * from stats cross join r1_keys cross join r3_unmatched")


def test_values_never_reach_the_sql_text():
    hostile = "x'; drop table raw_data.load_batches; --"
    q = query(f'ColumnValues "code" = "{hostile}"')
    assert "drop table" not in q.sql and "'" not in q.sql
    assert q.params == {"r0_v0": hostile}
    # A pattern is a literal (Redshift documents one for ~): its quote is doubled, so the
    # whole text stays inside one string.
    q = query(f'ColumnValues "code" matches "{hostile}"')
    assert "'^(x''; drop table raw_data.load_batches; --)$'" in q.sql


def test_sql_is_lowercase_and_free_of_postgres_only_syntax():
    sql = query(
        'ColumnValues "seen_at" >= "2024-01-01"',
        'ColumnValues "code" matches "a"',
        'IsPrimaryKey "item_id" "code"',
    ).sql
    assert "::" not in sql and "(?:" not in sql and " ilike " not in sql
    assert sql == sql.lower()


@pytest.mark.parametrize(
    "rule",
    [
        'IsComplete "Code"',
        'IsUnique "code; drop table x"',
        'IsPrimaryKey "item_id" "a\\"b"',
        'ColumnValues "bad name" = 1',
        'ReferentialIntegrity "load_batch_id" "raw_data.load batches.batch_id" = 1.0',
        'ReferentialIntegrity "load_batch_id" "a.b.c.d" = 1.0',
        'ReferentialIntegrity "load_batch_id" "batch_id" = 1.0',
    ],
)
def test_bad_identifiers_are_refused_naming_the_rule(rule):
    with pytest.raises(
        ValueError, match=re.escape(f"rule '{parse_ruleset(f'Rules = [{rule}]')[0].text}'")
    ):
        query(rule)


@pytest.mark.parametrize("table", ["stg_items", "raw_data.stg-items", 'raw_data."x"', "a.b.c", ""])
def test_bad_table_names_are_refused(table):
    with pytest.raises(ValueError):
        split_table_name(table)


def test_quote_identifier():
    assert quote_identifier("load_batch_id") == '"load_batch_id"'
    for bad in ("Upper", 'a"b', "a b", "1st", "", "x" * 64):
        with pytest.raises(ValueError, match="invalid column"):
            quote_identifier(bad, "column name")


def test_missing_column_names_rule_and_column():
    with pytest.raises(ValueError, match=r"rule 'IsComplete \"nope\"': column 'nope' is not in"):
        query('IsComplete "nope"')
    with pytest.raises(ValueError, match=r"column 'missing' is not in raw_data.load_batches"):
        query('ReferentialIntegrity "load_batch_id" "load_batches.missing" = 1.0')


def test_missing_table_is_named():
    with pytest.raises(ValueError, match=r"rule '.*': raw_data.nowhere: no such table"):
        query('ReferentialIntegrity "load_batch_id" "nowhere.batch_id" = 1.0')


@pytest.mark.parametrize(
    ("rule", "why"),
    [
        ('ColumnLength "item_id" <= 3', "ColumnLength applies to string columns"),
        ('ColumnValues "price" matches "1"', "matches applies to string columns"),
        ('ColumnValues "code" > 5', "cannot compare it with 5"),
        ('ColumnValues "price" = "cheap"', "cannot compare it with 'cheap'"),
        ('ColumnValues "seen_at" > 5', "cannot compare it with 5"),
        ('ColumnValues "is_active" = 1', "cannot compare it with 1"),
        ('ReferentialIntegrity "code" "curated.parents.parent_id" = 1.0', "cannot be compared"),
    ],
)
def test_type_mismatch_names_the_rule(rule, why):
    with pytest.raises(ValueError, match="rule '") as caught:
        query(rule)
    assert why in str(caught.value)


def test_gate_error_lists_every_failure():
    failures = [
        DatasetFailure("a.b", "r1", "= 1.0", 0.5, "a.b: rule 'r1' failed"),
        DatasetFailure("a.c", "r2", "= 1.0", 0.0, "a.c: rule 'r2' failed"),
    ]
    message = str(QualityGateError(failures))
    assert message.splitlines() == [
        "quality gate failed: 2 warehouse rules broken",
        "  - a.b: rule 'r1' failed",
        "  - a.c: rule 'r2' failed",
    ]


def test_rulesets_are_read_by_table_name_and_a_missing_folder_is_an_error(tmp_path):
    (tmp_path / "raw_data.stg_items.dqdl").write_text('# items\nRules = [IsComplete "code"]\n')
    (tmp_path / "notes.txt").write_text("not a ruleset")
    assert {t: [r.text for r in rules] for t, rules in load_rulesets(tmp_path).items()} == {
        "raw_data.stg_items": ['IsComplete "code"']
    }
    (tmp_path / "stg_items.dqdl").write_text("Rules = []")
    with pytest.raises(ValueError, match="expected schema.table"):
        load_rulesets(tmp_path)
    with pytest.raises(FileNotFoundError, match="no warehouse rulesets"):
        load_rulesets(tmp_path / "missing")
