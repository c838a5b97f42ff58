"""Transforms shared by every source table: typing to the spec, row hashes, batch dedup."""

from __future__ import annotations

import re
from collections.abc import Sequence

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from rental_analytics.sources.tables import TableSpec

_DECIMAL = re.compile(r"^decimal\((\d+),\s*(\d+)\)$")


def fit_bytes(text: Column, max_bytes: int) -> Column:
    """``text`` in at most ``max_bytes`` bytes of UTF-8, as a VARCHAR(max_bytes) holds it
    (AWS docs: r_Character_types): unchanged when it fits, else cut on a character
    boundary and ended with ``...[cut: N bytes in all]``."""
    size = F.octet_length(text)
    suffix = F.concat(F.lit("...[cut: "), size.cast("string"), F.lit(" bytes in all]"))
    room = F.lit(max_bytes) - F.octet_length(suffix)
    head = F.encode(text, "UTF-8").substr(F.lit(1), room)
    # A cut inside a character decodes to U+FFFD at the end: drop it (never longer then).
    cut = F.regexp_replace(F.decode(head, "UTF-8"), "\ufffd+$", "")
    return F.when(size <= max_bytes, text).otherwise(F.concat(cut, suffix))


def spark_type(logical: str) -> T.DataType:
    simple = {
        "int": T.IntegerType(),
        "bigint": T.LongType(),
        "string": T.StringType(),
        "text": T.StringType(),
        "date": T.DateType(),
        "timestamp": T.TimestampType(),
        "boolean": T.BooleanType(),
        "double": T.DoubleType(),
    }
    if logical in simple:
        return simple[logical]
    m = _DECIMAL.match(logical)
    if m:
        return T.DecimalType(int(m.group(1)), int(m.group(2)))
    raise ValueError(f"unknown logical type {logical!r}")


def spark_schema(spec: TableSpec) -> T.StructType:
    return T.StructType([T.StructField(c.name, spark_type(c.type), True) for c in spec.columns])


def cast_to_spec(df: DataFrame, spec: TableSpec) -> DataFrame:
    """The spec's columns, in the spec's order, with the spec's types."""
    return df.select(*[F.col(c.name).cast(spark_type(c.type)).alias(c.name) for c in spec.columns])


def _canonical(col: str, dtype: T.DataType) -> Column:
    if isinstance(dtype, T.TimestampType):
        text = F.date_format(F.col(col), "yyyy-MM-dd HH:mm:ss.SSSSSS")
    else:
        text = F.col(col).cast("string")
    # \x1f separates fields and \x00 marks NULL, so ('a', NULL) and ('a', '') differ.
    return F.coalesce(text, F.lit("\x00"))


def row_hash(df: DataFrame, columns: Sequence[str]) -> Column:
    """MD5 over the canonical text of ``columns``: equal iff the values are equal."""
    types = {f.name: f.dataType for f in df.schema.fields}
    return F.md5(F.concat_ws("\x1f", *[_canonical(c, types[c]) for c in columns]))
