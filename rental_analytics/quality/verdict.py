"""From measured counts to a verdict on a dataset-level rule, whatever engine measured them.

Both evaluators (Spark DataFrames in ``evaluate``, warehouse tables in ``warehouse``) measure
the same counts for a rule and hand them here, so a rule means the same thing, and fails
with the same message, on either engine. Nothing here imports Spark or a database driver.

Counts a rule needs in ``measured`` (besides the table's row and column counts):

- any rule ``with threshold``: ``passing``, the rows that pass the inner rule;
- IsUnique: ``non_null`` and ``distinct`` (distinct non-null values);
- IsPrimaryKey: ``complete`` (rows with every key column set) and ``distinct`` (distinct
  complete keys);
- ReferentialIntegrity: ``missing_rows`` (rows whose non-NULL value is not in the reference
  column) and ``missing_values`` (distinct such values).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from rental_analytics.quality.dqdl import Rule, RuleKind, Value


@dataclass(frozen=True)
class DatasetFailure:
    """A dataset-level rule that did not hold for a table's batch."""

    table: str
    rule: str  # the rule's text
    threshold: str  # what the rule requires of the observed value, e.g. "> 0.95"
    observed: int | float
    message: str


def judge(
    rule: Rule, table: str, row_count: int, column_count: int, measured: dict
) -> DatasetFailure | None:
    """The failure of ``rule`` on ``table`` given what was measured, or None if it holds."""
    passed, observed, threshold, detail = _verdict(rule, row_count, column_count, measured)
    if passed:
        return None
    shown = f"{observed:.4f}" if isinstance(observed, float) else str(observed)
    message = f"{table}: rule '{rule.text}' failed: observed {shown} (threshold {threshold})"
    if detail:
        message += f"; {detail}"
    return DatasetFailure(table, rule.text, threshold, observed, message)


def _verdict(
    rule: Rule, row_count: int, column_count: int, measured: dict
) -> tuple[bool, int | float, str, str]:
    """(passed, observed value, threshold text, detail for the message)."""
    if rule.threshold is not None:
        op, fraction = rule.threshold
        passing = measured["passing"]
        observed = passing / row_count if row_count else 1.0
        detail = f"{passing} of {plural(row_count, 'row')} pass"
        return holds(observed, op, (fraction,)), observed, f"{op} {fraction}", detail
    if rule.kind in (RuleKind.ROW_COUNT, RuleKind.COLUMN_COUNT):
        observed = row_count if rule.kind == RuleKind.ROW_COUNT else column_count
        return holds(observed, rule.op, rule.values), observed, expectation(rule), ""
    if rule.kind == RuleKind.IS_UNIQUE:
        non_null, distinct = measured["non_null"], measured["distinct"]
        duplicated = non_null - distinct
        observed = distinct / non_null if non_null else 1.0
        return duplicated == 0, observed, "= 1.0", f"{plural(duplicated, 'duplicated value')}"
    if rule.kind == RuleKind.IS_PRIMARY_KEY:
        complete, distinct = measured["complete"], measured["distinct"]
        null_keys, duplicated = row_count - complete, complete - distinct
        observed = distinct / row_count if row_count else 1.0
        detail = (
            f"{plural(duplicated, 'duplicated key')}, "
            f"{plural(null_keys, 'row')} with a NULL key column"
        )
        return null_keys == 0 and duplicated == 0, observed, "= 1.0", detail
    if rule.kind == RuleKind.REFERENTIAL_INTEGRITY:
        missing_rows, missing_values = measured["missing_rows"], measured["missing_values"]
        observed = (row_count - missing_rows) / row_count if row_count else 1.0
        detail = (
            f"{plural(missing_values, 'value')} in {plural(missing_rows, 'row')} "
            f"not found in {rule.columns[1]}"
        )
        return holds(observed, rule.op, rule.values), observed, expectation(rule), detail
    raise ValueError(f"rule '{rule.text}' is not a dataset-level rule")


def holds(observed: int | float, op: str | None, values: tuple) -> bool:
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


def expectation(rule: Rule) -> str:
    """What the rule expects of one value, as in "expected >= 0"."""
    shown = [show_value(v) for v in rule.values]
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


def show_value(value: Value) -> str:
    if isinstance(value, str):
        return f"'{value}'"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")
