"""Evaluate parsed DQDL rules on Spark DataFrames: pure functions, no I/O.

Two kinds of result, as in Glue Data Quality:

- Row-level rules (IsComplete, ColumnValues, ColumnLength without a threshold) judge each
  row on its own. :func:`with_row_failures` adds ``dq_failures``: for each row the rules it
  breaks, each with a reason that quotes the offending value. Rows with failures become
  rejects; the batch goes on.
- Dataset-level rules (RowCount, ColumnCount, IsUnique, IsPrimaryKey, and any rule with
  ``with threshold``) judge the whole batch. :func:`evaluate_dataset` computes all of them
  in one Spark aggregation and returns the failures; a failure fails the job.

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
- ColumnLength counts characters, not bytes, and applies to string columns only.
- ReferentialIntegrity needs a second table, so it is not evaluated here
  (NotImplementedError).
"""

from __future__ import annotations

from collections.abc import Iterable
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

FAILURES_COLUMN = "dq_failures"
FAILURES_TYPE = ArrayType(
    StructType([StructField("rule", StringType()), StructField("reason", StringType())])
)
# Longer offending values are cut in reasons; the whole row is kept with the reject.
MAX_SHOWN_CHARS = 100


@dataclass(frozen=True)
class DatasetFailure:
    """A dataset-level rule that did not hold for a table's batch."""

    table: str
    rule: str  # the rule's text
    threshold: str  # what the rule requires of the observed value, e.g. "> 0.95"
    observed: int | float
    message: str


# ------------------------------------------------------------------------- row level


def with_row_failures(df: DataFrame, rules: Iterable[Rule]) -> DataFrame:
    """``df`` plus ``dq_failures: array<struct<rule, reason>>``, empty when the row passes
    every row-level rule. Dataset-level rules are ignored here."""
    failures = []
    for rule in rules:
        if not rule.is_row_level:
            continue
        check = _row_check(df, rule)
        failure = F.struct(F.lit(rule.text).alias("rule"), check.reason.alias("reason"))
        failures.append(F.when(~check.passes, failure))
    if not failures:
        return df.withColumn(FAILURES_COLUMN, F.array().cast(FAILURES_TYPE))
    broken = F.filter(F.array(*failures), lambda failure: failure.isNotNull())
    return df.withColumn(FAILURES_COLUMN, broken.cast(FAILURES_TYPE))


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
        length = F.length(col)
        reason = F.concat(
            F.lit(f"{name} has length "),
            length.cast("string"),
            F.lit(f", expected {_expectation(rule)}"),
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
            F.lit(f"{name} is "), _shown(col, dtype), F.lit(f", expected {_expectation(rule)}")
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
    raise _type_error(rule, name, dtype, f"cannot compare it with {_show_value(value)}")


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


def _show_value(value: Value) -> str:
    if isinstance(value, str):
        return f"'{value}'"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _expectation(rule: Rule) -> str:
    """What the rule expects of one value, as in "expected >= 0"."""
    shown = [_show_value(v) for v in rule.values]
    match rule.op:
        case "between":
            return f"between {shown[0]} and {shown[1]}"
        case "in":
            return f"one of [{','.join(shown)}]"
        case "not in":
            return f"none of [{','.join(shown)}]"
        case "matches":
            return f"to match {shown[0]}"
    return f"{rule.op} {shown[0]}"


# --------------------------------------------------------------------- dataset level


def evaluate_dataset(df: DataFrame, rules: Iterable[Rule], table: str) -> list[DatasetFailure]:
    """The dataset-level rules of ``rules`` that ``df`` breaks, in rule order.

    All of them are computed in a single aggregation (one Spark job; none when only
    ColumnCount is asked). Row-level rules are ignored here.
    """
    checks = [rule for rule in rules if not rule.is_row_level]
    for rule in checks:
        if rule.kind == RuleKind.REFERENTIAL_INTEGRITY:
            raise NotImplementedError(
                f"{table}: rule '{rule.text}' compares two tables; ReferentialIntegrity is "
                "not evaluated on a single DataFrame"
            )
    aggregates = [F.count(F.lit(1)).alias("row_count")]
    for i, rule in enumerate(checks):
        aggregates += [agg.alias(f"r{i}_{key}") for key, agg in _aggregates(df, rule).items()]
    needs_spark = any(rule.kind != RuleKind.COLUMN_COUNT for rule in checks)
    stats = df.agg(*aggregates).first().asDict() if needs_spark else {}

    failures = []
    for i, rule in enumerate(checks):
        prefix = f"r{i}_"
        measured = {k[len(prefix) :]: v for k, v in stats.items() if k.startswith(prefix)}
        passed, observed, threshold, detail = _judge(
            rule, stats.get("row_count", 0), len(df.columns), measured
        )
        if passed:
            continue
        shown = f"{observed:.4f}" if isinstance(observed, float) else str(observed)
        message = f"{table}: rule '{rule.text}' failed: observed {shown} (threshold {threshold})"
        if detail:
            message += f"; {detail}"
        failures.append(DatasetFailure(table, rule.text, threshold, observed, message))
    return failures


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


def _judge(
    rule: Rule, row_count: int, column_count: int, measured: dict
) -> tuple[bool, int | float, str, str]:
    """(passed, observed value, threshold text, detail for the message)."""
    if rule.threshold is not None:
        op, fraction = rule.threshold
        passing = measured["passing"]
        observed = passing / row_count if row_count else 1.0
        detail = f"{passing} of {_plural(row_count, 'row')} pass"
        return _holds(observed, op, (fraction,)), observed, f"{op} {fraction}", detail
    if rule.kind in (RuleKind.ROW_COUNT, RuleKind.COLUMN_COUNT):
        observed = row_count if rule.kind == RuleKind.ROW_COUNT else column_count
        return _holds(observed, rule.op, rule.values), observed, _expectation(rule), ""
    if rule.kind == RuleKind.IS_UNIQUE:
        non_null, distinct = measured["non_null"], measured["distinct"]
        duplicated = non_null - distinct
        observed = distinct / non_null if non_null else 1.0
        return duplicated == 0, observed, "= 1.0", f"{_plural(duplicated, 'duplicated value')}"
    if rule.kind == RuleKind.IS_PRIMARY_KEY:
        complete, distinct = measured["complete"], measured["distinct"]
        null_keys, duplicated = row_count - complete, complete - distinct
        observed = distinct / row_count if row_count else 1.0
        detail = (
            f"{_plural(duplicated, 'duplicated key')}, "
            f"{_plural(null_keys, 'row')} with a NULL key column"
        )
        return null_keys == 0 and duplicated == 0, observed, "= 1.0", detail
    raise ValueError(f"rule '{rule.text}' is not a dataset-level rule")


def _holds(observed: int | float, op: str | None, values: tuple) -> bool:
    bound = [float(v) if isinstance(observed, float) else v for v in values]
    match op:
        case "=":
            return observed == bound[0]
        case ">":
            return observed > bound[0]
        case ">=":
            return observed >= bound[0]
        case "<":
            return observed < bound[0]
        case "<=":
            return observed <= bound[0]
        case "between":
            return bound[0] <= observed <= bound[1]
    raise ValueError(f"unsupported operator {op!r}")


# ------------------------------------------------------------------------------ common


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


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
