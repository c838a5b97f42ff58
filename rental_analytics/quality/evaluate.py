"""Evaluate parsed DQDL rules on Spark DataFrames: pure functions, no I/O.

Two kinds of result, as in Glue Data Quality:

- Row-level rules (IsComplete, ColumnValues, ColumnLength without a threshold) judge each
  row on its own. :func:`with_row_failures` adds ``dq_failures``: for each row the rules it
  breaks, each with a reason that quotes the offending value. Rows with failures become
  rejects; the batch goes on.
- Dataset-level rules (RowCount, ColumnCount, IsUnique, IsPrimaryKey, and any rule with
  ``with threshold``) judge the whole batch. :func:`evaluate_dataset` computes all of them
  in one Spark aggregation and returns the failures; a failure fails the job. The verdict
  on the measured counts, and its message, are shared with the warehouse evaluator
  (``quality/verdict.py``).

Semantics, where DQDL leaves room or where this project chose differently:

- NULL. IsComplete fails on NULL, and only on NULL (an empty or blank string is
  complete). ColumnValues and ColumnLength treat NULL as passing: completeness is
  IsComplete's job, so "price >= 0" says nothing about missing prices. (Glue fails NULL
  in most ColumnValues forms and counts it as length 0 in ColumnLength; pair a rule with
  IsComplete to get that here.)
- Thresholds. ``with threshold op f`` compares the fraction of rows passing the inner
  rule (NULL counted as above) with ``f``. An empty DataFrame has fraction 1.0.
- IsUnique ignores NULLs; its observed value is distinct non-null values / non-null
  values. IsPrimaryKey needs every key column non-null and the key tuples distinct; its
  observed value is distinct complete keys / rows. Both are 1.0 exactly when the rule
  holds; the failure message also counts duplicated keys and NULL keys.
- Types. Numbers compare numerically with integer, decimal and floating columns. A
  quoted "YYYY-MM-DD" compares as a date with date columns, and with the calendar date
  (in the session time zone) of timestamp columns. With string columns every literal
  compares as text, and numbers only with =, !=, in and not in. Any other pairing, or a
  column missing from the DataFrame, raises ValueError naming the rule.
- ``matches`` must match the whole value (Java regex syntax, as Spark runs it).
- ColumnLength counts UTF-8 bytes, not characters, as Redshift's VARCHAR(n) holds n bytes
  (AWS docs: r_Character_types); it applies to string columns only.
- ReferentialIntegrity needs the referenced table: pass it in ``references``, by the name
  the rule uses (``"apartments"`` for ``"apartments.id"``). A NULL value references
  nothing and is not counted as missing, as in the warehouse evaluator.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql.types import (
    ArrayType,
    DataType,
    DateType,
    NumericType,
    StringType,
    StructField,
    StructType,
    TimestampNTZType,
    TimestampType,
)

from rental_analytics.quality.dqdl import Rule, RuleKind, Value
from rental_analytics.quality.verdict import DatasetFailure, expectation, judge, show_value

FAILURES_COLUMN = "dq_failures"
FAILURES_TYPE = ArrayType(
    StructType([StructField("rule", StringType()), StructField("reason", StringType())])
)
# Longer offending values are cut in reasons; the whole row is kept with the reject.
MAX_SHOWN_CHARS = 100


# ------------------------------------------------------------------------- row level


def with_row_failures(df: DataFrame, rules: Iterable[Rule]) -> DataFrame:
    """``df`` plus ``dq_failures: array<struct<rule, reason>>``, empty when the row passes
    every row-level rule. Dataset-level rules are ignored here."""
    failures = []
    for rule in rules:
        if not rule.is_row_level:
            continue
        check = _row_check(df, rule)
        failures.append((~check.passes, F.lit(rule.text), check.reason))
    return df.withColumn(FAILURES_COLUMN, failure_array(failures))


def failure_array(failures: Sequence[tuple[Column, Column, Column]]) -> Column:
    """``array<struct<rule, reason>>`` of the ``(failed, rule, reason)`` whose ``failed``
    holds, in their order: empty when none does.

    Built by concatenating one-element and empty arrays, which Spark compiles into the
    query's generated code like the checks themselves. A higher-order function (``filter``
    of an array of failures or NULLs) is evaluated row by row by Spark's interpreter, and
    every expression under it too, parsing and checks included. Measured on 200,000
    apartments (warm, both cores), checking them: 0.56 s as a filter, 0.17 s this way."""
    empty = F.array().cast(FAILURES_TYPE)
    if not failures:
        return empty
    parts = [
        F.when(failed, F.array(F.struct(rule.alias("rule"), reason.alias("reason")))).otherwise(
            empty
        )
        for failed, rule, reason in failures
    ]
    return F.concat(*parts).cast(FAILURES_TYPE)


@dataclass(frozen=True)
class _RowCheck:
    passes: Column  # never NULL
    reason: Column  # read only where passes is false


def _row_check(df: DataFrame, rule: Rule) -> _RowCheck:
    (name,) = rule.columns
    dtype = _column_type(df, rule, name)
    col = F.col(_quoted(name))
    if rule.kind == RuleKind.IS_COMPLETE:
        return _RowCheck(col.isNotNull(), F.lit(f"{name} is NULL"))
    if rule.kind == RuleKind.COLUMN_LENGTH:
        if not isinstance(dtype, StringType):
            raise _type_error(rule, name, dtype, "ColumnLength applies to string columns")
        # Bytes of UTF-8, as Redshift's VARCHAR(n) counts them (r_Character_types).
        length = F.octet_length(col)
        reason = F.concat(
            F.lit(f"{name} has length "),
            length.cast("string"),
            F.lit(f" bytes, expected {expectation(rule)}"),
        )
        return _RowCheck(
            col.isNull() | _compare(length, rule.op, [F.lit(v) for v in rule.values]), reason
        )
    if rule.kind == RuleKind.COLUMN_VALUES:
        if rule.op == "matches":
            if not isinstance(dtype, StringType):
                raise _type_error(rule, name, dtype, "matches applies to string columns")
            # rlike finds a match anywhere; DQDL's matches is about the whole value.
            condition = col.rlike(f"\\A(?:{rule.values[0]})\\z")
        else:
            subject = col
            if isinstance(dtype, TimestampType | TimestampNTZType) and _any_date(rule.values):
                subject = F.to_date(col)
            literals = [_literal(rule, name, dtype, v) for v in rule.values]
            condition = _compare(subject, rule.op, literals)
        reason = F.concat(
            F.lit(f"{name} is "), _shown(col, dtype), F.lit(f", expected {expectation(rule)}")
        )
        return _RowCheck(col.isNull() | condition, reason)
    raise ValueError(f"rule '{rule.text}' is not a row-level rule")


def _compare(subject: Column, op: str | None, operands: list[Column]) -> Column:
    match op:
        case "=":
            return subject == operands[0]
        case "!=":
            return subject != operands[0]
        case ">":
            return subject > operands[0]
        case ">=":
            return subject >= operands[0]
        case "<":
            return subject < operands[0]
        case "<=":
            return subject <= operands[0]
        case "between":
            return (subject >= operands[0]) & (subject <= operands[1])
        case "in":
            return subject.isin(*operands)
        case "not in":
            return ~subject.isin(*operands)
    raise ValueError(f"unsupported operator {op!r}")


def _literal(rule: Rule, name: str, dtype: DataType, value: Value) -> Column:
    """The rule's value as a Spark literal comparable with a column of type ``dtype``."""
    is_number = isinstance(value, int | Decimal)
    if isinstance(dtype, NumericType) and is_number:
        return F.lit(value)
    if isinstance(dtype, DateType | TimestampType | TimestampNTZType) and isinstance(value, date):
        return F.lit(value)
    if isinstance(dtype, StringType):
        if isinstance(value, str):
            return F.lit(value)
        if isinstance(value, date):
            return F.lit(value.isoformat())
        if is_number and rule.op in ("=", "!=", "in", "not in"):
            return F.lit(str(value))
    raise _type_error(rule, name, dtype, f"cannot compare it with {show_value(value)}")


def _any_date(values: tuple[Value, ...]) -> bool:
    return any(isinstance(v, date) for v in values)


def _shown(col: Column, dtype: DataType) -> Column:
    """The offending value as it appears in a reason: strings quoted and cut short."""
    text = col.cast("string")
    if not isinstance(dtype, StringType):
        return text
    cut = F.when(
        F.length(text) > MAX_SHOWN_CHARS,
        F.concat(F.substring(text, 1, MAX_SHOWN_CHARS), F.lit("...")),
    ).otherwise(text)
    return F.concat(F.lit("'"), cut, F.lit("'"))


# --------------------------------------------------------------------- dataset level


def evaluate_dataset(
    df: DataFrame,
    rules: Iterable[Rule],
    table: str,
    references: Mapping[str, DataFrame] | None = None,
) -> list[DatasetFailure]:
    """The dataset-level rules of ``rules`` that ``df`` breaks, in rule order.

    All of them but ReferentialIntegrity are computed in a single aggregation (one Spark
    job; none when only ColumnCount is asked); each ReferentialIntegrity rule is one more
    job, an anti-join with its reference in ``references``. Row-level rules are ignored.
    """
    checks = [rule for rule in rules if not rule.is_row_level]
    aggregates = [F.count(F.lit(1)).alias("row_count")]
    for i, rule in enumerate(checks):
        aggregates += [agg.alias(f"r{i}_{key}") for key, agg in _aggregates(df, rule).items()]
    needs_spark = any(rule.kind != RuleKind.COLUMN_COUNT for rule in checks)
    stats = df.agg(*aggregates).first().asDict() if needs_spark else {}
    for i, rule in enumerate(checks):
        if rule.kind == RuleKind.REFERENTIAL_INTEGRITY:
            missing = _missing_references(df, rule, table, references or {})
            stats.update({f"r{i}_{key}": value for key, value in missing.items()})

    failures = []
    for i, rule in enumerate(checks):
        prefix = f"r{i}_"
        measured = {k[len(prefix) :]: v for k, v in stats.items() if k.startswith(prefix)}
        failure = judge(rule, table, stats.get("row_count", 0), len(df.columns), measured)
        if failure is not None:
            failures.append(failure)
    return failures


def _missing_references(
    df: DataFrame, rule: Rule, table: str, references: Mapping[str, DataFrame]
) -> dict[str, int]:
    """Rows (and distinct values) of the rule's column whose value the reference lacks."""
    column, target = rule.columns
    ref_name, _, ref_column = target.rpartition(".")
    if ref_name not in references:
        raise ValueError(
            f"{table}: rule '{rule.text}' needs the table '{ref_name}', which was not given "
            f"(given: {', '.join(sorted(references)) or 'none'})"
        )
    reference = references[ref_name]
    _column_type(df, rule, column)
    _column_type(reference, rule, ref_column)
    values = reference.select(F.col(_quoted(ref_column)).alias("_ref")).distinct()
    orphans = df.select(F.col(_quoted(column)).alias("_value")).where(F.col("_value").isNotNull())
    orphans = orphans.join(values, orphans["_value"] == values["_ref"], "left_anti")
    row = orphans.agg(
        F.count(F.lit(1)).alias("rows"), F.count_distinct("_value").alias("values")
    ).first()
    return {"missing_rows": row["rows"], "missing_values": row["values"]}


def _aggregates(df: DataFrame, rule: Rule) -> dict[str, Column]:
    if rule.threshold is not None:
        passes = _row_check(df, rule).passes
        return {"passing": F.count(F.when(passes, 1))}
    if rule.kind == RuleKind.IS_UNIQUE:
        (name,) = rule.columns
        _column_type(df, rule, name)
        col = F.col(_quoted(name))
        return {"non_null": F.count(col), "distinct": F.count_distinct(col)}
    if rule.kind == RuleKind.IS_PRIMARY_KEY:
        for name in rule.columns:
            _column_type(df, rule, name)
        cols = [F.col(_quoted(name)) for name in rule.columns]
        complete = F.lit(True)
        for col in cols:
            complete = complete & col.isNotNull()
        # count_distinct skips tuples with any NULL, so it counts distinct complete keys.
        return {"complete": F.count(F.when(complete, 1)), "distinct": F.count_distinct(*cols)}
    return {}


# ------------------------------------------------------------------------------ common


def _quoted(name: str) -> str:
    """A column reference that takes ``name`` literally (dots, hyphens, spaces)."""
    return "`" + name.replace("`", "``") + "`"


def _column_type(df: DataFrame, rule: Rule, name: str) -> DataType:
    fields = {field.name: field.dataType for field in df.schema.fields}
    if name in fields:
        return fields[name]
    # Spark resolves column names case-insensitively by default.
    folded = [dtype for field, dtype in fields.items() if field.lower() == name.lower()]
    if len(folded) == 1:
        return folded[0]
    raise ValueError(
        f"rule '{rule.text}': column '{name}' is not in the DataFrame "
        f"(columns: {', '.join(df.columns)})"
    )


def _type_error(rule: Rule, name: str, dtype: DataType, why: str) -> ValueError:
    return ValueError(f"rule '{rule.text}': column '{name}' is {dtype.simpleString()}; {why}")
