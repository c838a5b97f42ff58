"""The local stack in the folders newcomers use: root's home (mode 0700), a `mktemp -d`
folder, a path with spaces. PostgreSQL runs as the ``postgres`` user, who cannot enter
such folders; the stack must work without changing their permissions."""

from __future__ import annotations

import json
import os
import shutil
import stat

import psycopg
import pymysql
import pytest

from rental_analytics.local import stack as stack_module
from rental_analytics.local.stack import LocalStack, postgres_dir_of

pytestmark = pytest.mark.integration


def _connect_both(home):
    ports = json.loads((home / "stack.json").read_text())
    secrets = json.loads((home / "secrets.json").read_text())
    with psycopg.connect(
        host="127.0.0.1", port=ports["postgres_port"], user="rentals",
        password=secrets["postgres_password"], dbname="warehouse", connect_timeout=5,
    ) as conn:  # fmt: skip
        assert conn.execute("select 1").fetchone() == (1,)
    conn = pymysql.connect(
        host="127.0.0.1", port=ports["mariadb_port"], user="rentals",
        password=secrets["mariadb_password"], database="rental_db", connect_timeout=5,
    )  # fmt: skip
    conn.close()


def test_a_home_inside_a_private_folder_with_spaces(tmp_path):
    private = tmp_path / "private folder"
    private.mkdir(mode=0o700)
    private.chmod(0o700)
    home = private / "my rentals home"
    stack = LocalStack(home)
    try:
        stack.up()
        _connect_both(home)
        assert stat.S_IMODE(private.stat().st_mode) == 0o700  # untouched
        cluster = postgres_dir_of(home)
        if os.geteuid() == 0:  # PostgreSQL runs as postgres: its cluster lives outside
            assert cluster.parent == stack_module.PG_DATA_ROOT
            assert (home / "postgres").resolve() == cluster
            assert (cluster / "home").read_text().strip() == str(home.resolve())
        else:
            assert cluster == home / "postgres"
        assert (cluster / "data" / "PG_VERSION").exists()
        stack.up()  # idempotent
        _connect_both(home)
    finally:
        removed = stack.clean()
    assert not home.exists() and not cluster.exists()
    assert cluster in removed and home in removed


@pytest.mark.skipif(os.geteuid() != 0, reason="clusters live outside the home only for root")
def test_a_cluster_whose_home_was_deleted_is_removed_by_the_next_up(tmp_path):
    gone, kept = tmp_path / "gone" / "home", tmp_path / "kept" / "home"
    LocalStack(gone).up()
    LocalStack(gone).down()
    orphan = postgres_dir_of(gone)
    assert orphan.exists()
    not_ours = stack_module.PG_DATA_ROOT / f"notes-{tmp_path.name}"
    not_ours.mkdir()
    shutil.rmtree(gone)
    stack = LocalStack(kept)
    try:
        stack.up()
        assert not orphan.exists()
        assert not_ours.exists()  # a folder without our marker is left alone
        assert postgres_dir_of(kept).exists()
    finally:
        stack.clean()
        not_ours.rmdir()


@pytest.mark.skipif(os.geteuid() != 0, reason="clusters live outside the home only for root")
def test_a_home_left_by_a_failed_initdb_starts(tmp_path):
    """Before clusters moved out, initdb failed in a private folder and left
    ``postgres/`` in the home with no cluster; the next `rentals up` must start."""
    home = tmp_path / "home"
    (home / "postgres").mkdir(parents=True)
    (home / "postgres" / "postgres.log").write_text("initdb: could not change directory\n")
    stack = LocalStack(home)
    try:
        stack.up()
        _connect_both(home)
        assert (home / "postgres").is_symlink()
    finally:
        stack.clean()
