"""The Redshift-differences check of `make lint`: each rule catches its example, the
repository passes, and a copy of redshift/ with any one known construct placed in it fails."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from rental_analytics.warehouse.sqlcheck import RULES, check_paths, check_text

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.code)
def test_each_rule_catches_its_example_and_says_why_and_what_instead(rule):
    findings = check_text(rule.example + ";", in_merges=True)
    assert rule.code in [f.rule.code for f in findings]
    finding = next(f for f in findings if f.rule.code == rule.code)
    text = str(finding)
    assert "AWS docs" in text and "Instead:" in text and rule.alternative in text


@pytest.mark.parametrize(
    "sql",
    [
        "select datediff(second, a.starts_at, a.ends_at) from a",
        "select dateadd(day, -30, b.booking_date) from b",
        "select cast(x as date) - interval_days from t",  # not a date column by name
        "select 1 from t where code ~ '^(a|b)$'",
        "copy stage from 's3://b/m' iam_role 'r' format as parquet manifest",
        "-- extract(epoch from t) in a comment\nselect 1",
        "select updated - 1 from t",
    ],
)
def test_documented_forms_pass(sql):
    assert check_text(sql + ";", in_merges=True) == []


def test_analyze_is_refused_in_merges_only():
    assert check_text("analyze t;", in_merges=False) == []
    assert [f.rule.code for f in check_text("analyze t;", in_merges=True)] == ["RS03"]


def test_the_repository_passes():
    findings = check_paths([ROOT / "redshift", ROOT / "rental_analytics"])
    assert findings == [], "\n".join(map(str, findings))


def test_generated_sql_in_python_is_checked(tmp_path):
    module = tmp_path / "gen.py"
    module.write_text(
        'def q(t):\n    return f"select extract(epoch from {t}.ends_at) from {t}"\n'
        'R = "select 1 from t where code ~ %(r0)s"\n'
    )
    assert sorted(f.rule.code for f in check_paths([module])) == ["RS01", "RS05"]


def test_make_lint_runs_the_check_on_redshift():
    makefile = (ROOT / "Makefile").read_text()
    lint = makefile[makefile.index("\nlint:") : makefile.index("\nformat:")]
    assert "-m rental_analytics.warehouse.sqlcheck redshift/" in lint


def _run(*paths: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "rental_analytics.warehouse.sqlcheck", *map(str, paths)],
        capture_output=True, text=True, cwd=ROOT, check=False,
    )  # fmt: skip


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.code)
def test_lint_fails_on_a_copy_of_redshift_with_the_construct(rule, tmp_path):
    copy = tmp_path / "redshift"
    shutil.copytree(ROOT / "redshift", copy)
    assert _run(copy).returncode == 0
    target = copy / "merges" / "080_fact_rentals.sql"
    target.write_text(target.read_text() + "\n" + rule.example + ";\n")
    proc = _run(copy)
    assert proc.returncode == 1
    assert "080_fact_rentals.sql:" in proc.stdout and rule.code in proc.stdout
