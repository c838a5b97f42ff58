"""The wheel Glue installs with --additional-python-modules and --no-deps: it holds the job
support and the SQL, and once installed on its own it finds every SQL and rule file."""

from __future__ import annotations

import json
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from rental_analytics.aws.packaging import PackagingError, build_wheel

REPO = Path(__file__).resolve().parents[2]
SQL_FILES = sorted(
    p.relative_to(REPO / "redshift").as_posix()
    for pattern in ("*.sql", "*.dqdl")
    for p in (REPO / "redshift").rglob(pattern)
)
MODULES = sorted(
    p.relative_to(REPO).as_posix()
    for p in (REPO / "rental_analytics").rglob("*.py")
    if "__pycache__" not in p.parts
)
RULES = sorted(p.relative_to(REPO).as_posix() for p in (REPO / "rental_analytics").rglob("*.dqdl"))
# What a Glue run imports: the frame, the AWS side, and every module the jobs reach.
GLUE_IMPORTS = [
    "rental_analytics.jobs.runtime",
    "rental_analytics.jobs.args",
    "rental_analytics.aws.settings",
    "rental_analytics.storage",
    "rental_analytics.storage.s3",
    "rental_analytics.sources.extract",
    "rental_analytics.sources.landing",
    "rental_analytics.jobs.load_raw",
    "rental_analytics.jobs.curate",
    "rental_analytics.warehouse",
]

# Run with only the installed wheel and the venv's third-party modules on sys.path.
PROBE = """
import importlib, json, runpy, sys
target, site, imports, scripts = sys.argv[1:5]
sys.path[:0] = [target, site]
import rental_analytics
for name in json.loads(imports):
    importlib.import_module(name)
for script in json.loads(scripts):
    runpy.run_path(script, run_name="not_main")  # defines main(), runs nothing
from rental_analytics.jobs.load_raw import load_rules
from rental_analytics.sources.tables import all_tables
from rental_analytics.warehouse.base import sql_dir
root = sql_dir()
print(json.dumps({
    "package": rental_analytics.__file__,
    "sql_dir": str(root),
    "sql": sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()),
    "rules": {s.name: len(load_rules(s)) for s in all_tables()},
}))
"""


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    return build_wheel(tmp_path_factory.mktemp("dist"))


def test_the_wheel_holds_the_package_its_rules_and_the_sql(wheel):
    assert wheel.name == "rental_analytics-0.1.0-py3-none-any.whl"
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {"rental_analytics/aws/settings.py", "rental_analytics/storage/s3.py"} <= names
    assert [m for m in MODULES if m not in names] == []
    assert [r for r in RULES if r not in names] == []
    assert len(SQL_FILES) > 50
    assert [f for f in SQL_FILES if f"rental_analytics/redshift/{f}" not in names] == []
    assert not [n for n in names if n.startswith(("tests/", "glue_jobs/", "redshift/"))]


def test_the_installed_wheel_alone_finds_every_sql_file(wheel, tmp_path):
    target = tmp_path / "target"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target",
         str(target), str(wheel)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    scripts = [
        str(REPO / "glue_jobs" / name) for name in ("extract.py", "load_raw.py", "curate.py")
    ]
    site = sysconfig.get_paths()["purelib"]  # pyspark, awsglue, boto3: Glue's own there
    done = subprocess.run(
        # -I -S: no checkout on sys.path, no .pth files (the editable install's finder)
        [sys.executable, "-I", "-S", "-c", PROBE, str(target), site,
         json.dumps(GLUE_IMPORTS), json.dumps(scripts)],
        capture_output=True, text=True, cwd=tmp_path, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert Path(found["package"]).is_relative_to(target)
    assert Path(found["sql_dir"]) == target / "rental_analytics" / "redshift"
    assert found["sql"] == SQL_FILES
    assert found["rules"] and all(count > 0 for count in found["rules"].values())


def test_building_outside_a_checkout_is_refused(tmp_path):
    with pytest.raises(PackagingError, match="not a checkout"):
        build_wheel(tmp_path / "dist", source=tmp_path)
