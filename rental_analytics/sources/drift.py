"""Schema drift: a source that no longer matches its table spec.

Pure checks, shared by the JDBC extraction (the source catalogue's columns and types) and
the landing extraction (CSV headers). A spec column missing from the source, or a source
type that cannot be read losslessly as the spec's type, always fails; a column the source
added is reported and ignored, or fails, as the ``schema_drift`` setting says.

Source types are MySQL-family column types as ``information_schema.columns.column_type``
states them (``int(11)``, ``int unsigned``, ``decimal(10,2)``, ``tinyint(1)``,
``varchar(255)``, ``datetime(6)``): the same for Aurora MySQL and MariaDB.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from rental_analytics.config import SCHEMA_DRIFT_FAIL
from rental_analytics.sources.tables import TableSpec

_SOURCE_TYPE = re.compile(r"^\s*([a-z]+)\s*(?:\(([^)]*)\))?\s*(.*)$")
_DECIMAL = re.compile(r"^decimal\((\d+),\s*(\d+)\)$")

# Decimal digits of each integer type's largest magnitude: (signed, unsigned).
_INTEGER_DIGITS = {
    "tinyint": (3, 3),
    "smallint": (5, 5),
    "mediumint": (7, 8),
    "int": (10, 10),
    "integer": (10, 10),
    "bigint": (19, 20),
}
_TEXTUAL = {"char", "varchar", "tinytext", "text", "mediumtext", "longtext", "enum", "set"}
_FLOATING = {"float", "double", "real"}
# A double holds every decimal of up to 15 significant digits exactly enough to give it back.
_DOUBLE_DIGITS = 15


@dataclass(frozen=True)
class SourceColumn:
    """A source table's column as its catalogue states it."""

    name: str
    type: str  # e.g. int(11), decimal(10,2), tinyint(1), varchar(255), datetime
    in_primary_key: bool = False  # part of the table's declared primary key


def source_keys_unique(spec: TableSpec, source: Sequence[SourceColumn]) -> bool:
    """Whether the source itself guarantees one row per key of ``spec`` in a batch read from
    it: the table's declared primary key is the spec's key, and a partitioned read splits
    on a key column (each key value is then read by exactly one of the partitions' queries,
    which need not see the same moment)."""
    declared = {c.name.lower() for c in source if c.in_primary_key}
    key = {k.lower() for k in spec.primary_key}
    partition = spec.partition_column
    return bool(declared) and declared == key and (partition is None or partition.lower() in key)


@dataclass(frozen=True)
class _SourceType:
    base: str  # int, decimal, varchar, ...; 'boolean' for tinyint(1), bit(1), bool
    args: tuple[int, ...]  # (precision, scale) of a decimal; empty otherwise
    unsigned: bool


def _parse_source_type(text: str) -> _SourceType:
    m = _SOURCE_TYPE.match(text.lower())
    if not m:
        return _SourceType(text.lower().strip(), (), False)
    base, args, rest = m.group(1), m.group(2) or "", m.group(3)
    numbers = tuple(int(a) for a in args.split(",") if a.strip().isdigit())
    # The MariaDB and MySQL drivers read tinyint(1) and bit(1) as booleans (tinyInt1isBit).
    if base in ("bool", "boolean") or (base in ("tinyint", "bit") and numbers == (1,)):
        return _SourceType("boolean", (), False)
    if base in ("numeric", "dec", "fixed"):
        base = "decimal"
    if base == "decimal" and len(numbers) == 1:
        numbers = (numbers[0], 0)
    elif base == "decimal" and not numbers:
        numbers = (10, 0)  # MySQL's default precision
    return _SourceType(base, numbers if base == "decimal" else (), "unsigned" in rest)


def _integer_digits(t: _SourceType) -> int | None:
    """Digits of the largest magnitude of an exact whole-number type, None if not one."""
    if t.base in _INTEGER_DIGITS:
        return _INTEGER_DIGITS[t.base][1 if t.unsigned else 0]
    if t.base == "decimal" and t.args[1] == 0:
        return t.args[0]
    return None


def readable_as(source_type: str, logical_type: str) -> bool:
    """Whether every value of ``source_type`` reads as ``logical_type`` without loss.

    int: whole numbers of up to 9 digits (tinyint .. mediumint, signed int, decimal(p,0)
    with p <= 9); bigint: up to 18 digits (also int unsigned, bigint); decimal(P,S):
    decimal(p,s) with s <= S and p - s <= P - S, or an integer type of at most P - S digits;
    double: float, double, integers below bigint, decimal(p,s) with p <= 15; string and
    text: character types, enum, set, and exact numbers (their text is unique); date: date;
    timestamp: datetime, timestamp, date; boolean: tinyint(1), bit(1), bool.
    """
    t = _parse_source_type(source_type)
    whole = _integer_digits(t)
    if logical_type in ("int", "bigint"):
        if t.base in ("int", "integer") and t.unsigned:  # 4,294,967,295 overflows an int
            return logical_type == "bigint"
        if t.base == "bigint":
            return logical_type == "bigint" and not t.unsigned
        limit = 9 if logical_type == "int" else 18
        return whole is not None and (t.base in _INTEGER_DIGITS or whole <= limit)
    m = _DECIMAL.match(logical_type)
    if m:
        precision, scale = int(m.group(1)), int(m.group(2))
        if t.base == "decimal":
            p, s = t.args
            return s <= scale and p - s <= precision - scale
        return whole is not None and whole <= precision - scale
    if logical_type == "double":
        if t.base in _FLOATING:
            return True
        if t.base == "decimal":
            return t.args[0] <= _DOUBLE_DIGITS
        return whole is not None and t.base != "bigint"
    if logical_type in ("string", "text"):
        return t.base in _TEXTUAL or whole is not None or t.base == "decimal"
    if logical_type == "date":
        return t.base == "date"
    if logical_type == "timestamp":
        return t.base in ("datetime", "timestamp", "date")
    if logical_type == "boolean":
        return t.base == "boolean"
    raise ValueError(f"unknown logical type {logical_type!r}")


def _added_columns_problem(added: Sequence[str]) -> str:
    return (
        f"added source column{'s' if len(added) > 1 else ''} not in the table spec: "
        f"{', '.join(added)} (schema_drift=fail; with schema_drift=ignore they are reported "
        "and not extracted)"
    )


def compare_source_columns(
    spec: TableSpec, source: Sequence[SourceColumn], policy: str
) -> tuple[list[str], str | None]:
    """A source table's columns against its spec: (notes, error), error None if it may be
    extracted. Names compare case-insensitively, as MySQL's do."""
    where = f"{spec.domain}.{spec.name}"
    if not source:
        return [], f"{where}: source table not found (required by the table spec)"
    by_name = {c.name.lower(): c for c in source}
    problems = []
    for column in spec.columns:
        found = by_name.get(column.name)
        if found is None:
            problems.append(
                f"source column '{column.name}' is missing (required by the table spec)"
            )
        elif not readable_as(found.type, column.type):
            problems.append(
                f"source column '{column.name}' has type {found.type}, which cannot be read "
                f"losslessly as the spec's {column.type}"
            )
    added = [c.name for c in source if c.name.lower() not in spec.column_names]
    notes = []
    if added and policy == SCHEMA_DRIFT_FAIL:
        problems.append(_added_columns_problem(added))
    elif added:
        notes.append(f"added source columns ignored: {', '.join(added)}")
    return notes, f"{where}: {'; '.join(problems)}" if problems else None


def compare_landed_headers(
    spec: TableSpec, extra_columns: Mapping[str, Sequence[str]], policy: str
) -> tuple[list[str], str | None]:
    """Extra header columns of landed files (file key -> columns) against the policy:
    (notes, error). Missing header columns fail earlier, when the header is matched."""
    notes, problems = [], []
    for key, extra in extra_columns.items():
        if not extra:
            continue
        if policy == SCHEMA_DRIFT_FAIL:
            problems.append(f"{key}: {_added_columns_problem(extra)}")
        else:
            notes.append(f"{key}: extra columns ignored: {', '.join(extra)}")
    where = f"{spec.domain}.{spec.name}"
    return notes, f"{where}: {'; '.join(problems)}" if problems else None
