"""Refuse SQL constructs that PostgreSQL (the local warehouse) accepts but Redshift treats
differently, in ``redshift/`` and in the SQL the package writes.

    python -m rental_analytics.warehouse.sqlcheck redshift/ rental_analytics/

Each rule has a code, the reason (with the AWS documentation page that settles it) and the
documented alternative. ``.sql`` files are checked statement by statement, without their
comments; ``.py`` files through their string literals (f-string parts included), so SQL
built in code is held to the same rules. A module whose docstring says
``sqlcheck: postgres-only`` (SQL that only ever runs on the local PostgreSQL) is skipped.
Exit status 1 when anything is found, with one line per finding.
"""

from __future__ import annotations

import ast
import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from rental_analytics.warehouse.sqltext import split_statements, strip_comments

POSTGRES_ONLY_MARK = "sqlcheck: postgres-only"


@dataclass(frozen=True)
class SqlRule:
    code: str
    pattern: re.Pattern[str]
    reason: str
    alternative: str
    example: str  # a snippet the rule must catch (tests/unit/test_sqlcheck.py)
    merges_only: bool = False
    in_python: bool = True  # also checked in string literals of .py files


_DATE_NAME = r"(?:\w*date|current_date|getdate\(\))"

RULES: tuple[SqlRule, ...] = (
    SqlRule(
        "RS01",
        re.compile(r"\bextract\s*\(\s*epoch\s+from\b", re.I),
        "EXTRACT(EPOCH FROM ...) returns an INTEGER in Redshift: fractions are cut and "
        "it overflows after 2038 (AWS docs: r_EXTRACT_function)",
        "DATEDIFF(second, start, end) (r_DATEDIFF_function; it counts boundaries)",
        "select extract(epoch from t.ends_at) from t",
    ),
    SqlRule(
        "RS02",
        re.compile(
            rf"\b{_DATE_NAME}\s*[-+]\s*(?:\d+\b|{_DATE_NAME}\b|\w+\.\w*date\b)"
            rf"|\b\w+\.\w*date\s*[-+]\s*(?:\d+\b|\w+\.\w*date\b|\w*date\b)",
            re.I,
        ),
        "date - date and date +/- integer are not documented Redshift operators (AWS docs: "
        "r_Datetime_types, Date and time functions)",
        "DATEDIFF(day, a, b) for a difference, DATEADD(day, n, d) to move a date",
        "select b.checkout_date - b.checkin_date, b.booking_date - 30 from b",
    ),
    SqlRule(
        "RS03",
        re.compile(r"^\s*analyze\b", re.I),
        "ANALYZE inside a merge's transaction is redundant: Redshift analyzes automatically "
        "and a temp table's statistics are not needed for these merges (AWS docs: "
        "t_Analyzing_tables)",
        "no ANALYZE in redshift/merges; rely on automatic analyze",
        "analyze fact_source",
        merges_only=True,
    ),
    SqlRule(
        "RS04",
        re.compile(
            r"\bcopy\s+[\w.\"]+\s*\([^)]*\)[^;]*\bformat\s+(?:as\s+)?parquet\b", re.I | re.S
        ),
        "a column list is not among the parameters COPY supports for Parquet, which maps "
        "the files' columns to the table's by position (AWS docs: "
        "copy-usage_notes-copy-from-columnar)",
        "COPY table FROM ... FORMAT AS PARQUET, the table's columns equal to the files'",
        "copy stage (id, title) from 's3://b/m' iam_role 'r' format as parquet manifest",
    ),
    SqlRule(
        "RS05",
        re.compile(
            r"(?:!?~\*?|\bsimilar\s+to|\bregexp_\w+\s*\([^,]*,)\s*(?:%\(\w+\)s|:\w+|\$\d+|%s)", re.I
        ),
        "Redshift documents the pattern of ~, SIMILAR TO and REGEXP_* as a string literal, "
        "not a bound parameter (AWS docs: pattern-matching-conditions-posix)",
        "write the pattern as an escaped string literal ('...', quotes doubled)",
        "select 1 from t where code ~ %(r1_v0)s",
    ),
    SqlRule(
        "RS06",
        re.compile(r"\(\?[:=!<]"),
        "Redshift's POSIX regular expressions have no (?:...) or look-around groups (AWS "
        "docs: pattern-matching-conditions-posix)",
        "a plain group (...)",
        "select 1 from t where code ~ '^(?:a|b)$'",
        in_python=False,  # Python's own regular expressions use them
    ),
    SqlRule(
        "RS07",
        re.compile(r"\bgenerate_series\s*\(", re.I),
        "generate_series is a leader-node-only function in Redshift: it fails with any "
        "user table (AWS docs: c_sql-functions-leader-node)",
        "a numbers table or a recursive CTE",
        "select d from generate_series(1, 10) as d join t on t.n = d",
    ),
)


@dataclass(frozen=True)
class Finding:
    path: Path
    line: int
    rule: SqlRule

    def __str__(self) -> str:
        return (
            f"{self.path}:{self.line}: {self.rule.code} {self.rule.reason}. "
            f"Instead: {self.rule.alternative}"
        )


def check_text(
    text: str, path: Path = Path("<sql>"), first_line: int = 1, in_merges: bool = False
) -> list[Finding]:
    """Findings in SQL text: each statement without its comments."""
    findings = []
    cursor = 0
    for statement in split_statements(text):
        at = text.find(statement, cursor)
        cursor = at + len(statement) if at >= 0 else cursor
        line = first_line + (text.count("\n", 0, at) if at >= 0 else 0)
        code = strip_comments(statement)
        for rule in RULES:
            if rule.merges_only and not in_merges:
                continue
            match = rule.pattern.search(code)
            if match:
                findings.append(Finding(path, line, rule))
    return findings


def _python_strings(source: str) -> Iterator[tuple[int, str]]:
    """(line, text) of each string literal; an f-string's literal parts joined by a blank."""
    tree = ast.parse(source)
    inside_fstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            parts = []
            for value in node.values:
                inside_fstrings.add(id(value))
                parts.append(value.value if isinstance(value, ast.Constant) else " x ")
            yield node.lineno, "".join(str(p) for p in parts)
    for node in ast.walk(tree):
        is_text = isinstance(node, ast.Constant) and isinstance(node.value, str)
        if is_text and id(node) not in inside_fstrings:
            yield node.lineno, node.value


_SQL_WORDS = re.compile(r"\b(select|insert|update|delete|merge|copy|create|where)\b", re.I)


def check_python(path: Path) -> list[Finding]:
    source = path.read_text(encoding="utf-8")
    if POSTGRES_ONLY_MARK in source:
        return []
    findings = []
    for line, text in _python_strings(source):
        if not _SQL_WORDS.search(text):
            continue
        for rule in RULES:
            if rule.merges_only or not rule.in_python:
                continue
            if rule.pattern.search(strip_comments(text)):
                findings.append(Finding(path, line, rule))
    return findings


def check_paths(paths: Iterable[Path]) -> list[Finding]:
    findings: list[Finding] = []
    for root in paths:
        files = sorted(root.rglob("*")) if root.is_dir() else [root]
        for path in files:
            if path.suffix == ".sql":
                in_merges = "merges" in path.parts
                findings += check_text(path.read_text(encoding="utf-8"), path, 1, in_merges)
            elif path.suffix == ".py":
                findings += check_python(path)
    return findings


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args:
        print("usage: python -m rental_analytics.warehouse.sqlcheck PATH...", file=sys.stderr)
        return 2
    missing = [a for a in args if not Path(a).exists()]
    if missing:
        print(f"sqlcheck: no such path: {', '.join(missing)}", file=sys.stderr)
        return 2
    findings = check_paths(Path(a) for a in args)
    for finding in findings:
        print(finding)
    if findings:
        print(f"sqlcheck: {len(findings)} Redshift difference(s) found", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
