"""DQDL rules on warehouse tables, in SQL that Redshift and PostgreSQL 15 both run, and the
quality gate that ends the curate job.

On a warehouse table every rule is dataset-level: there is no batch to reject rows from. A
row-level rule (IsComplete, ColumnValues, ColumnLength) without a threshold holds when every
row passes it (the passing fraction ``= 1.0``); ``with threshold op f`` compares the passing
fraction with ``f``. Otherwise the semantics are those of ``evaluate`` (NULL passes
ColumnValues and ColumnLength, an empty table has fraction 1.0, the observed values of
IsUnique and IsPrimaryKey, which literal compares with which column type), and so are the
failures and their messages (``verdict``). Where the engine decides:

- ``matches`` is a POSIX regular expression (``~`` in both engines), anchored so that it
  must match the whole value.
- ColumnLength is ``octet_length()``: UTF-8 bytes, as VARCHAR(n) counts them; trailing
  blanks of char(n) values do not count.
- The pattern of ``matches`` is written as an escaped string literal (Redshift documents a
  literal there); every other value is bound as a parameter.
- ReferentialIntegrity ``"col" "schema.table.col"`` (``"table.col"``: the evaluated table's
  schema) observes the fraction of rows whose value exists in the reference column. A NULL
  value passes, as in ColumnValues; pair the rule with IsComplete to forbid it.

Cost: one catalog query (information_schema.columns), then one query per table (the gate runs
two at a time, on two connections: ``check_warehouse``). It reads the
table once for every single-table rule in one aggregate, plus once per multi-column
IsPrimaryKey (Redshift has no ``count(distinct a, b)``) and once per ReferentialIntegrity (an
anti-join with the reference table); the parts are cross-joined into a single row.

Schema, table and column names are validated (``[a-z_][a-z0-9_]*``) and double-quoted;
values are bound as parameters, never written into the SQL text (but for regular
expressions, written as escaped literals).
"""

from __future__ import annotations

import dataclasses
import queue
import time
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from rental_analytics.config import validate_identifier
from rental_analytics.jobs.concurrent import in_order
from rental_analytics.quality.dqdl import ROW_LEVEL_KINDS, Rule, RuleKind, Value, parse_ruleset
from rental_analytics.quality.verdict import DatasetFailure, judge, show_value
from rental_analytics.warehouse.base import Warehouse, sql_dir
from rental_analytics.warehouse.sqltext import quote_identifier

# Connections the quality gate measures the tables on, side by side (check_warehouse).
GATE_CONNECTIONS = 2

# "schema.table" -> its rules, in file name order (load_rulesets).
Rulesets = Mapping[str, tuple[Rule, ...]]

# "schema.table" -> {column name: information_schema data_type}, in column order.
Catalog = Mapping[str, Mapping[str, str]]

_TYPE_CLASSES = {
    "smallint": "number",
    "integer": "number",
    "bigint": "number",
    "numeric": "number",
    "real": "number",
    "double precision": "number",
    "character varying": "string",
    "character": "string",
    "text": "string",
    "date": "date",
    "timestamp without time zone": "timestamp",
    "timestamp with time zone": "timestamp",
}
# Redshift's widest numeric; a literal keeps its own scale.
_NUMERIC_PRECISION = 38


@dataclass(frozen=True)
class TableQuery:
    """The one query that measures a table's rules, and its bound values."""

    sql: str
    params: dict[str, Any]


# ------------------------------------------------------------------------------ names


def split_table_name(table: str) -> tuple[str, str]:
    """``schema.table`` as (schema, table), both valid identifiers; ValueError otherwise."""
    parts = table.split(".")
    if len(parts) != 2:
        raise ValueError(f"table {table!r}: expected schema.table")
    return validate_identifier(parts[0], "schema name"), validate_identifier(parts[1], "table name")


def _quoted_table(table: str) -> str:
    schema, name = split_table_name(table)
    return f"{quote_identifier(schema)}.{quote_identifier(name)}"


def _quoted_column(rule: Rule, name: str) -> str:
    try:
        return quote_identifier(name, "column name")
    except ValueError as exc:
        raise ValueError(f"rule '{rule.text}': {exc}") from exc


def reference_of(rule: Rule, table: str) -> tuple[str, str]:
    """The (``schema.table``, column) a ReferentialIntegrity rule of ``table`` points to."""
    parts = rule.columns[1].split(".")
    if len(parts) == 2:
        parts = [split_table_name(table)[0], *parts]
    if len(parts) != 3:
        raise ValueError(
            f"rule '{rule.text}': reference {rule.columns[1]!r} is not "
            "schema.table.column or table.column"
        )
    try:
        schema, name, column = (validate_identifier(p, "reference name") for p in parts)
    except ValueError as exc:
        raise ValueError(f"rule '{rule.text}': {exc}") from exc
    return f"{schema}.{name}", column


def _references(table: str, rules: Iterable[Rule]) -> set[str]:
    return {
        reference_of(rule, table)[0]
        for rule in rules
        if rule.kind == RuleKind.REFERENTIAL_INTEGRITY
    }


# ---------------------------------------------------------------------------- catalog


def read_catalog(wh: Warehouse, tables: Iterable[str]) -> dict[str, dict[str, str]]:
    """Columns and types of ``tables`` (``schema.table``), one query; absent tables are left
    out."""
    conditions, params = [], {}
    for i, table in enumerate(sorted(set(tables))):
        params[f"s{i}"], params[f"t{i}"] = split_table_name(table)
        conditions.append(f"(table_schema = %(s{i})s and table_name = %(t{i})s)")
    if not conditions:
        return {}
    _, rows = wh.query(
        "select table_schema, table_name, column_name, data_type"  # noqa: S608 - placeholders only
        " from information_schema.columns"
        f" where {' or '.join(conditions)}"
        " order by table_schema, table_name, ordinal_position",
        params,
    )
    catalog: dict[str, dict[str, str]] = {}
    for schema, name, column, data_type in rows:
        catalog.setdefault(f"{schema}.{name}", {})[column] = data_type
    return catalog


def _columns_of(table: str, catalog: Catalog) -> Mapping[str, str]:
    if table not in catalog:
        raise ValueError(f"{table}: no such table (no columns in information_schema.columns)")
    return catalog[table]


def _column_type(rule: Rule, table: str, name: str, columns: Mapping[str, str]) -> str:
    if name not in columns:
        raise ValueError(
            f"rule '{rule.text}': column '{name}' is not in {table} (columns: {', '.join(columns)})"
        )
    return columns[name]


# ------------------------------------------------------------------------- the query


def table_query(table: str, rules: Sequence[Rule], catalog: Catalog) -> TableQuery:
    """The query measuring every rule of ``table``: one row, ``row_count`` and ``r<i>_*``
    columns holding what rule ``i`` needs (see ``verdict``)."""
    source = _quoted_table(table)
    columns = _columns_of(table, catalog)
    aggregates = ["count(*) as row_count"]
    parts: list[tuple[str, str]] = []  # (CTE name, query) cross-joined with the aggregate
    params: dict[str, Any] = {}
    for i, rule in enumerate(rules):
        prefix = f"r{i}_"
        # A ReferentialIntegrity rule's second "column" is the reference.
        names = rule.columns[:1] if rule.kind == RuleKind.REFERENTIAL_INTEGRITY else rule.columns
        quoted = [_quoted_column(rule, name) for name in names]
        types = [_column_type(rule, table, name, columns) for name in names]
        if rule.kind in ROW_LEVEL_KINDS:
            condition = _passes(rule, quoted[0], types[0], params, prefix)
            aggregates.append(f"count(case when {condition} then 1 end) as {prefix}passing")
        elif rule.kind == RuleKind.IS_UNIQUE:
            aggregates.append(f"count({quoted[0]}) as {prefix}non_null")
            aggregates.append(f"count(distinct {quoted[0]}) as {prefix}distinct")
        elif rule.kind == RuleKind.IS_PRIMARY_KEY:
            complete = " and ".join(f"{col} is not null" for col in quoted)
            aggregates.append(f"count(case when {complete} then 1 end) as {prefix}complete")
            if len(quoted) == 1:
                aggregates.append(f"count(distinct {quoted[0]}) as {prefix}distinct")
            else:
                keys = ", ".join(quoted)
                parts.append(
                    (
                        f"{prefix}keys",
                        f"select count(*) as {prefix}distinct from ("  # noqa: S608 - quoted names
                        f"select distinct {keys} from {source} where {complete}) as distinct_keys",
                    )
                )
        elif rule.kind == RuleKind.REFERENTIAL_INTEGRITY:
            parts.append((f"{prefix}unmatched", _unmatched(rule, table, types[0], catalog, prefix)))
    body = ",\n        ".join(aggregates)
    ctes = [f"stats as (\n    select\n        {body}\n    from {source}\n)"]
    ctes += [f"{name} as (\n    {query}\n)" for name, query in parts]
    joins = "".join(f"\ncross join {name}" for name, _ in parts)
    sql = "with\n\n" + ",\n\n".join(ctes) + f"\n\nselect * from stats{joins}"
    return TableQuery(sql, params)


def _unmatched(rule: Rule, table: str, data_type: str, catalog: Catalog, prefix: str) -> str:
    """Rows (and distinct values) of the rule's column that reference nothing."""
    ref_table, ref_name = reference_of(rule, table)
    if ref_table not in catalog:
        raise ValueError(f"rule '{rule.text}': {ref_table}: no such table")
    ref_type = _column_type(rule, ref_table, ref_name, catalog[ref_table])
    if data_type != ref_type and (
        _TYPE_CLASSES.get(data_type) is None
        or _TYPE_CLASSES.get(data_type) != _TYPE_CLASSES.get(ref_type)
    ):
        raise ValueError(
            f"rule '{rule.text}': column '{rule.columns[0]}' is {data_type} and "
            f"{ref_table}.{ref_name} is {ref_type}; they cannot be compared"
        )
    col = f"src.{_quoted_column(rule, rule.columns[0])}"
    ref = f"ref.{quote_identifier(ref_name)}"
    return (
        f"select count(*) as {prefix}missing_rows,"  # noqa: S608 - quoted names
        f" count(distinct {col}) as {prefix}missing_values"
        f" from {_quoted_table(table)} as src"
        f" where {col} is not null and not exists ("
        f"select 1 from {_quoted_table(ref_table)} as ref where {ref} = {col})"
    )


def _passes(rule: Rule, col: str, data_type: str, params: dict[str, Any], prefix: str) -> str:
    """A condition, never NULL, true where a row passes a row-level rule."""
    kind = _TYPE_CLASSES.get(data_type)
    name = rule.columns[0]
    if rule.kind == RuleKind.IS_COMPLETE:
        return f"{col} is not null"
    if rule.kind == RuleKind.COLUMN_LENGTH:
        if kind != "string":
            raise _type_error(rule, name, data_type, "ColumnLength applies to string columns")
        bounds = [
            f"cast({_bind(params, f'{prefix}v{j}', v)} as integer)"
            for j, v in enumerate(rule.values)
        ]
        # Bytes, as VARCHAR(n) counts them (r_Character_types); char(n) without its padding.
        measured = (
            f"octet_length(rtrim({col}))" if data_type == "character" else f"octet_length({col})"
        )
        return f"({col} is null or {_compare(measured, rule.op, bounds)})"
    if rule.op == "matches":
        if kind != "string":
            raise _type_error(rule, name, data_type, "matches applies to string columns")
        # `~` finds a match anywhere; DQDL's matches is about the whole value. A plain group,
        # not (?:...): Redshift documents only POSIX groups for `~`.
        pattern = _regex_literal(rule, f"^({rule.values[0]})$")
        return f"({col} is null or {col} ~ {pattern})"
    subject = col
    if kind == "timestamp" and any(isinstance(v, date) for v in rule.values):
        subject = f"cast({col} as date)"
    literals = [
        _literal(rule, name, data_type, value, params, f"{prefix}v{j}")
        for j, value in enumerate(rule.values)
    ]
    return f"({col} is null or {_compare(subject, rule.op, literals)})"


def _literal(
    rule: Rule, name: str, data_type: str, value: Value, params: dict[str, Any], key: str
) -> str:
    """The rule's value bound as ``key``, cast to compare with a column of ``data_type``."""
    kind = _TYPE_CLASSES.get(data_type)
    is_number = isinstance(value, int | Decimal)
    if kind == "number" and is_number:
        scale = -value.as_tuple().exponent if isinstance(value, Decimal) else 0
        numeric = f"numeric({_NUMERIC_PRECISION}, {max(0, min(scale, _NUMERIC_PRECISION - 1))})"
        return f"cast({_bind(params, key, value)} as {numeric})"
    if kind in ("date", "timestamp") and isinstance(value, date):
        return f"cast({_bind(params, key, value)} as date)"
    if kind == "string":
        if isinstance(value, str):
            return _bind(params, key, value)
        if isinstance(value, date):
            return _bind(params, key, value.isoformat())
        if is_number and rule.op in ("=", "!=", "in", "not in"):
            return _bind(params, key, str(value))
    raise _type_error(rule, name, data_type, f"cannot compare it with {show_value(value)}")


def _regex_literal(rule: Rule, pattern: str) -> str:
    """``pattern`` as a SQL string literal: Redshift documents the right-hand side of ``~``
    as a string literal (pattern-matching-conditions-posix), not a bound parameter.

    Quotes are doubled and ``%`` written ``%%`` (statements go through %(name)s binding).
    A backslash is refused: Redshift reads it as an escape inside a literal, PostgreSQL
    (standard_conforming_strings) does not, so the same text would mean two patterns.
    """
    if "\\" in pattern or "\x00" in pattern:
        raise ValueError(
            f"rule '{rule.text}': a backslash (or NUL) in a matches pattern reads differently "
            "in Redshift and PostgreSQL string literals; use a bracket expression such as "
            "[[:digit:]] or [.] instead"
        )
    return "'" + pattern.replace("'", "''").replace("%", "%%") + "'"


def _bind(params: dict[str, Any], key: str, value: object) -> str:
    params[key] = value
    return f"%({key})s"


def _compare(subject: str, op: str | None, operands: list[str]) -> str:
    match op:
        case "=" | ">" | ">=" | "<" | "<=":
            return f"{subject} {op} {operands[0]}"
        case "!=":
            return f"{subject} <> {operands[0]}"
        case "between":
            return f"{subject} >= {operands[0]} and {subject} <= {operands[1]}"
        case "in":
            return f"{subject} in ({', '.join(operands)})"
        case "not in":
            return f"{subject} not in ({', '.join(operands)})"
    raise ValueError(f"unsupported operator {op!r}")


def _type_error(rule: Rule, name: str, data_type: str, why: str) -> ValueError:
    return ValueError(f"rule '{rule.text}': column '{name}' is {data_type}; {why}")


# ------------------------------------------------------------------------ evaluation


def evaluate_table(
    wh: Warehouse, table: str, rules: Iterable[Rule], *, catalog: Catalog | None = None
) -> list[DatasetFailure]:
    """The rules that ``table`` (``schema.table``) breaks, in rule order.

    ``catalog`` spares the catalog query when the caller read it for many tables at once.
    A table, or a column named by a rule, that does not exist raises ValueError.
    """
    rules = tuple(rules)
    if not rules:
        return []
    if catalog is None:
        catalog = read_catalog(wh, {table, *_references(table, rules)})
    columns = _columns_of(table, catalog)
    stats: dict[str, Any] = {"row_count": 0}
    if any(rule.kind != RuleKind.COLUMN_COUNT for rule in rules):
        query = table_query(table, rules, catalog)
        names, rows = wh.query(query.sql, query.params)
        stats = dict(zip(names, rows[0], strict=True))
    failures = []
    for i, rule in enumerate(rules):
        prefix = f"r{i}_"
        measured = {k[len(prefix) :]: v for k, v in stats.items() if k.startswith(prefix)}
        failure = judge(_dataset_rule(rule), table, stats["row_count"], len(columns), measured)
        if failure is not None:
            failures.append(failure)
    return failures


def _dataset_rule(rule: Rule) -> Rule:
    """A row-level rule judged on a whole table: every row must pass."""
    if rule.kind in ROW_LEVEL_KINDS and rule.threshold is None:
        return dataclasses.replace(rule, threshold=("=", 1.0))
    return rule


# ------------------------------------------------------------------------------ gate


@dataclass
class GateResult:
    """What the quality gate evaluated and what it found broken."""

    tables: int = 0
    rules: int = 0
    failures: list[DatasetFailure] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return not self.failures


class QualityGateError(RuntimeError):
    """Warehouse tables break their rulesets; the message lists every failure."""

    def __init__(self, failures: Sequence[DatasetFailure]) -> None:
        self.failures = list(failures)
        count = len(self.failures)
        listing = "".join(f"\n  - {f.message}" for f in self.failures)
        super().__init__(
            f"quality gate failed: {count} warehouse rule{'s' if count != 1 else ''} broken"
            f"{listing}"
        )


def quality_dir() -> Path:
    """redshift/quality: one ruleset per table, named ``<schema>.<table>.dqdl``."""
    return sql_dir() / "quality"


def load_rulesets(directory: Path | None = None) -> dict[str, tuple[Rule, ...]]:
    """Every warehouse ruleset, by ``schema.table``, in file name order.

    A missing folder raises: a deployment without its rulesets must not pass the gate.
    """
    directory = directory or quality_dir()
    if not directory.is_dir():
        raise FileNotFoundError(f"no warehouse rulesets: {directory} is not a folder")
    rulesets = {}
    for path in sorted(directory.glob("*.dqdl")):
        table = path.name.removesuffix(".dqdl")
        split_table_name(table)
        rulesets[table] = parse_ruleset(path.read_text(), source=f"quality/{path.name}")
    return rulesets


def tables_apart_from(written: Collection[str], rulesets: Rulesets | None = None) -> set[str]:
    """The tables of ``rulesets`` (every one under redshift/quality when None) that are not
    among ``written`` and reference none of them: what writing ``written`` cannot change
    the gate's verdict on."""
    rulesets = load_rulesets() if rulesets is None else rulesets
    return {
        table
        for table, rules in rulesets.items()
        if table not in written and not _references(table, rules) & set(written)
    }


def check_warehouse(
    wh: Warehouse, at_once: int = GATE_CONNECTIONS, rulesets: Rulesets | None = None
) -> GateResult:
    """Evaluate ``rulesets`` (every one under redshift/quality when None); the failures are
    returned, not raised, in ruleset order.

    The tables' queries run ``at_once`` at a time, on ``wh`` and on ``at_once - 1`` more
    connections opened for the gate (``Warehouse.another``): they only read, and the engine
    runs them side by side. Locally a query runs on one core; the gate of a scale-1
    warehouse (18 tables, up to 500,000 rows) took 0.80-0.93 s on one connection, 0.48-0.51
    s on two. Call it outside a transaction: the other connections see what is committed."""
    started = time.monotonic()
    rulesets = load_rulesets() if rulesets is None else rulesets
    read = set(rulesets)
    for table, rules in rulesets.items():
        read |= _references(table, rules)
    catalog = read_catalog(wh, read)
    result = GateResult(tables=len(rulesets))
    free: queue.SimpleQueue[Warehouse] = queue.SimpleQueue()
    others: list[Warehouse] = []
    try:
        free.put(wh)
        for _ in range(at_once - 1):
            others.append(wh.another())
            free.put(others[-1])

        def measure(table: str, rules: tuple[Rule, ...]) -> Callable[[], list[DatasetFailure]]:
            def task() -> list[DatasetFailure]:
                connection = free.get()
                try:
                    return evaluate_table(connection, table, rules, catalog=catalog)
                finally:
                    free.put(connection)

            return task

        tasks = [measure(table, rules) for table, rules in rulesets.items()]
        with closing(in_order(tasks, at_once, "quality-gate")) as measured:
            for rules, failures in zip(rulesets.values(), measured, strict=True):
                result.failures += failures
                result.rules += len(rules)
    finally:
        for other in others:
            other.close()
    result.seconds = time.monotonic() - started
    return result
