"""Typing of landed CSV text: each value parsed by its column's logical type and formats.

Raw batches of landed tables hold the files' text as it was. Here every value becomes its
spec type; a non-empty value that does not parse is not silently NULLed: the row carries
a failure naming the column, the value and the expected layout, and is rejected with it.
A record Spark could not split into the header's fields is rejected whole, with its line.

Dates are built from their digits with ``make_timestamp``, which returns NULL for an
impossible day (31 February) instead of depending on the session's time parser policy.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from rental_analytics.columns import CORRUPT_RECORD, SOURCE_FILE, SOURCE_FILE_SEQ, SOURCE_ROW_SEQ
from rental_analytics.quality.evaluate import failure_array
from rental_analytics.quality.rule_names import WELL_FORMED_RULE, data_type_rule
from rental_analytics.sources.formats import BOOLEAN_WORDS, LANDED_BOOLEANS, LAYOUTS, SEPARATORS
from rental_analytics.sources.tables import TableSpec
from rental_analytics.transforms.common import spark_type

PARSE_FAILURES = "parse_failures"
RAW_ROW = "raw_row"
MALFORMED_RULE = WELL_FORMED_RULE

_INTEGER = r"^[+-]?[0-9]+(\.0*)?$"
_NUMBER = r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$"
_TRUE = tuple(word for word, value in LANDED_BOOLEANS.items() if value)
_FALSE = tuple(word for word, value in LANDED_BOOLEANS.items() if not value)
_BLANKS = "\t\n\r\f\u000b\u00a0"  # trimmed like spaces (tabs, no-break spaces, ...)


def _parse_datetime(text: Column, formats: tuple[str, ...]) -> Column:
    """The instant a value in one of ``formats`` denotes, else NULL (an impossible day,
    a shape no format has).

    One regular expression tells whether the value has one of the shapes, a second (only
    when the formats put the year in both places) whether its year comes first; one split
    gives the digits. Each appears where Spark evaluates it for every row, not only inside
    one branch of a condition, so Spark evaluates it once per value and the generated code
    reuses it: written with a condition per format, the expressions were repeated in the
    branches and evaluated some sixteen times per value."""
    layouts = [LAYOUTS[f] for f in formats]
    shaped = text.rlike(_any_of(layout.pattern for layout in layouts))
    year_first = [layout.pattern for layout in layouts if layout.year_first]
    if len(year_first) == len(layouts):
        year_at = F.lit(0)
    elif not year_first:
        year_at = F.lit(2)
    else:
        year_at = F.when(text.rlike(_any_of(year_first)), F.lit(0)).otherwise(F.lit(2))
    parts = F.split(text, SEPARATORS)

    def number(index: int | Column) -> Column:
        return F.coalesce(F.get(parts, index), F.lit("0")).cast("int")

    year = number(year_at)
    day = number(F.lit(2) - year_at)
    built = F.make_timestamp(
        year, number(1), day, number(3), number(4), number(5).cast("decimal(8,6)")
    )
    # Year 0 exists for Spark, not for Python, Redshift or anyone's calendar.
    return F.when(shaped & (year >= 1) & built.isNotNull(), built)


def _any_of(patterns) -> str:
    """One regular expression matching what any of ``patterns`` (each anchored) matches."""
    return "|".join(f"(?:{pattern})" for pattern in patterns)


def _blank_trimmed(raw: Column) -> Column:
    return F.trim(F.translate(raw, _BLANKS, " " * len(_BLANKS)))


def parse_value(raw: Column, logical_type: str, formats: tuple[str, ...] = ()) -> Column:
    """``raw`` text as ``logical_type``; NULL when empty or when it does not parse."""
    text = _blank_trimmed(raw)  # tabs and no-break spaces too, not only ' '
    target = spark_type(logical_type)
    if logical_type in ("string", "text"):
        return raw
    if logical_type in ("int", "bigint"):
        digits = F.regexp_extract(text, r"^([+-]?[0-9]+)", 1)
        return F.when(text.rlike(_INTEGER), digits.cast(target))
    if logical_type.startswith("decimal"):
        return F.when(text.rlike(_NUMBER), text.cast(target))
    if logical_type == "double":
        number = text.cast(target)  # 1e400 overflows to infinity: not a value
        finite = F.abs(number) != F.lit(float("inf"))
        return F.when(text.rlike(_NUMBER) & finite, number)
    if logical_type == "boolean":
        lower = F.lower(text)
        return F.when(lower.isin(*_TRUE), F.lit(True)).when(lower.isin(*_FALSE), F.lit(False))
    if logical_type in ("date", "timestamp"):
        if not formats:
            raise ValueError(f"a {logical_type} column parsed from text needs its formats")
        parsed = _parse_datetime(text, formats)
        return parsed.cast("date") if logical_type == "date" else parsed
    raise ValueError(f"cannot parse text as {logical_type!r}")


def _expected(logical_type: str, formats: tuple[str, ...]) -> str:
    if formats:
        return f"a {logical_type} ({' | '.join(formats)})"
    if logical_type == "boolean":
        return f"a boolean ({BOOLEAN_WORDS})"
    if logical_type.startswith("decimal"):
        return f"a number fitting {logical_type}"
    if logical_type in ("int", "bigint"):
        return f"an integer fitting {logical_type}"
    return f"a {logical_type}"


def _typed_name(column: str) -> str:
    return f"_typed_{column}"


def parse_landed(df: DataFrame, spec: TableSpec) -> DataFrame:
    """Typed spec columns, plus ``raw_row`` (the text as landed, JSON) and
    ``parse_failures: array<struct<rule, reason>>`` (empty when the row parses)."""
    # Two projections: each value is parsed once, then both kept and checked. (Spark does
    # not collapse a projection that would repeat an expensive expression.)
    parsed = df.select(
        "*",
        *[
            parse_value(F.col(c.name), c.type, c.formats).alias(_typed_name(c.name))
            for c in spec.columns
            if c.type not in ("string", "text")
        ],
    )
    failures = []
    for column in spec.columns:
        if column.type in ("string", "text"):
            continue
        raw = F.col(column.name)
        shown = F.concat(F.lit("'"), F.substring(raw, 1, 200), F.lit("'"))
        rule = data_type_rule(column.name, column.type)
        expected = f" is not {_expected(column.type, column.formats)}"
        reason = F.concat(F.lit(f"{column.name}: "), shown, F.lit(expected))
        failed = F.col(_typed_name(column.name)).isNull() & (_blank_trimmed(raw) != "")
        failures.append((failed, F.lit(rule), reason))
    malformed = F.col(CORRUPT_RECORD).isNotNull()
    malformed_failure = F.array(
        F.struct(
            F.lit(MALFORMED_RULE).alias("rule"),
            F.concat(
                F.lit("malformed CSV record in "),
                F.col(SOURCE_FILE),
                F.lit(": its fields do not match the header (field count or quoting)"),
            ).alias("reason"),
        )
    )
    value_failures = failure_array(failures)
    raw_values = F.to_json(F.struct(*[F.col(c) for c in spec.column_names], F.col(SOURCE_FILE)))
    raw_line = F.to_json(F.struct(F.col(SOURCE_FILE), F.col(CORRUPT_RECORD).alias("record")))
    typed = [
        F.col(c.name if c.type in ("string", "text") else _typed_name(c.name)).alias(c.name)
        for c in spec.columns
    ]
    return parsed.select(
        *typed,
        F.when(malformed, raw_line).otherwise(raw_values).alias(RAW_ROW),
        F.when(malformed, malformed_failure).otherwise(value_failures).alias(PARSE_FAILURES),
        F.col(SOURCE_FILE_SEQ),
        *([F.col(SOURCE_ROW_SEQ)] if SOURCE_ROW_SEQ in df.columns else []),
    )
