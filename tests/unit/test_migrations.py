"""The migration runner's parsing and ordering (rental_analytics.warehouse.migrations)."""

from __future__ import annotations

from pathlib import Path

import pytest

from rental_analytics.warehouse.base import sql_dir
from rental_analytics.warehouse.migrations import (
    MigrationError,
    code_version,
    discover,
    view_files,
    view_order,
)
from rental_analytics.warehouse.sqltext import to_postgres


def _migration(root: Path, folder: str, *files: str) -> None:
    (root / folder).mkdir(parents=True)
    for name in files:
        (root / folder / name).write_text("select 1;\n")


def test_migrations_run_in_version_order_and_files_in_name_order(tmp_path):
    _migration(tmp_path, "0002_second", "020_b.sql", "010_a.sql")
    with pytest.raises(MigrationError, match="without gaps"):  # no 0001
        discover(tmp_path)
    _migration(tmp_path, "0001_initial", "010_schemas.sql")
    found = discover(tmp_path)
    assert [(m.version, m.name) for m in found] == [(1, "initial"), (2, "second")]
    assert [p.name for p in found[1].files] == ["010_a.sql", "020_b.sql"]
    assert found[1].label == "0002_second"


@pytest.mark.parametrize(
    ("folders", "error"),
    [
        (["0001_a", "1_b"], "not a migration folder"),
        (["0001_a", "0001_b"], "given twice"),
        (["0002_a"], "without gaps"),
        (["0001_Upper"], "not a migration folder"),
    ],
)
def test_a_malformed_migrations_folder_is_an_error(tmp_path, folders, error):
    for folder in folders:
        _migration(tmp_path, folder, "010.sql")
    with pytest.raises(MigrationError, match=error):
        discover(tmp_path)


def test_a_migration_without_sql_and_an_empty_folder_are_errors(tmp_path):
    with pytest.raises(MigrationError, match="no migrations"):
        discover(tmp_path)
    (tmp_path / "0001_empty").mkdir()
    with pytest.raises(MigrationError, match="no .sql file"):
        discover(tmp_path)


def test_views_come_after_the_views_they_read():
    views = {
        "vw_c": "create view presentation.vw_c as select * from presentation.vw_b",
        "vw_b": "create view presentation.vw_b as select * from presentation.vw_a",
        "vw_a": "-- reads presentation.vw_c in a comment only\ncreate view presentation.vw_a"
        " as select 1",
        "vw_0": "create view presentation.vw_0 as select 1",
    }
    assert view_order(views) == ["vw_0", "vw_a", "vw_b", "vw_c"]
    views["vw_a"] = "create view presentation.vw_a as select * from presentation.vw_c"
    with pytest.raises(MigrationError, match="cycle: vw_a, vw_b, vw_c"):
        view_order(views)


def test_the_project_sql_has_its_migrations_and_one_file_per_view():
    assert code_version() >= 2
    files = view_files()
    assert len(files) == len(list((sql_dir() / "views").glob("*.sql")))
    assert all(path.stem == name for name, path in files.items())
    assert set(view_order({n: p.read_text() for n, p in files.items()})) == set(files)


def test_postgres_grants_lose_the_role_keyword_redshift_needs():
    assert (
        to_postgres("grant select on t to role rentals_job") == "grant select on t to rentals_job"
    )
    assert (
        to_postgres("alter default privileges in schema s\ngrant select on tables to role r")
        == "alter default privileges in schema s\ngrant select on tables to r"
    )
    assert (
        to_postgres("revoke create on schema s from role r") == "revoke create on schema s from r"
    )
    # Only grants: a column or table named role is left alone elsewhere.
    assert to_postgres("select 1 as to role") == "select 1 as to role"
