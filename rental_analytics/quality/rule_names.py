"""The names of the row-level rules a reject is recorded under, as DQDL spells them.

One place for the load (transforms/landed.py, transforms/staging.py) and the source import
(local/importer/), so a reject reads the same whichever refused the row. Plain strings:
nothing here needs Spark.
"""

from __future__ import annotations

from rental_analytics.sources.tables import TableSpec

# A line that does not split into its header's fields.
WELL_FORMED_RULE = "WellFormedRecord"


def dqdl_type(logical_type: str) -> str:
    """The DQDL name of a logical type: DATE, TIMESTAMP, DECIMAL, INTEGER, LONG, BOOLEAN."""
    if logical_type.startswith("decimal"):
        return "DECIMAL"
    return {"int": "INTEGER", "bigint": "LONG"}.get(logical_type, logical_type.upper())


def data_type_rule(column: str, logical_type: str) -> str:
    return f'ColumnDataType "{column}" = "{dqdl_type(logical_type)}"'


def length_rule(column: str, max_length: int) -> str:
    return f'ColumnLength "{column}" <= {max_length}'


def complete_rule(column: str) -> str:
    return f'IsComplete "{column}"'


def primary_key_rule(spec: TableSpec) -> str:
    """The rule a version of a row superseded by a later one with the same key is recorded
    under (a later line of an import, a newer version in a batch or already loaded)."""
    return "IsPrimaryKey " + " ".join(f'"{k}"' for k in spec.primary_key)
