"""Shared fixtures: one private local stack (MariaDB + PostgreSQL) and one local
SparkSession per test session, both real."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from rental_analytics.config import Settings
from rental_analytics.local.stack import LocalStack, database_from_url

# pyspark.testing imports pandas-on-Spark, which asks for this before Spark starts.
os.environ.setdefault("PYARROW_IGNORE_TIMEZONE", "1")

REPO = Path(__file__).resolve().parent.parent
# Databases that run elsewhere (docker/compose.yaml), used instead of private instances.
MARIADB_URL_ENV, POSTGRES_URL_ENV = "RENTALS_TEST_MARIADB_URL", "RENTALS_TEST_POSTGRES_URL"


@pytest.fixture(scope="session")
def stack_home(tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("home")
    stack = LocalStack(home)
    mariadb_url, postgres_url = os.environ.get(MARIADB_URL_ENV), os.environ.get(POSTGRES_URL_ENV)
    if mariadb_url or postgres_url:
        if not (mariadb_url and postgres_url):
            pytest.exit(f"set both {MARIADB_URL_ENV} and {POSTGRES_URL_ENV}, or neither", 2)
        stack.attach(database_from_url(mariadb_url), database_from_url(postgres_url))
        stack.prepare_warehouse()
    else:
        stack.up()
    yield home
    stack.clean()


@pytest.fixture(scope="session")
def settings(stack_home) -> Settings:
    return Settings.local(stack_home)


@pytest.fixture(scope="session")
def spark():
    from rental_analytics.spark import local_session

    session = local_session("rentals-tests", jars=("/usr/share/java/mariadb-java-client.jar",))
    yield session
    session.stop()


@pytest.fixture
def warehouse(settings):
    """A connection to the test warehouse as its admin, every table emptied. The stack's
    owner applied the migrations, views and grants (LocalStack.prepare_warehouse)."""
    from rental_analytics.warehouse import connect

    wh = connect(settings)
    _, rows = wh.query(
        "select table_schema || '.' || table_name from information_schema.tables"
        " where table_schema in ('raw_data', 'curated') and table_type = 'BASE TABLE'"
    )
    if rows:
        wh.execute("truncate " + ", ".join(r[0] for r in rows))
    yield wh
    wh.close()


def empty_source(settings: Settings) -> None:
    """The test MariaDB with the source schema, all four tables empty, no import rejects."""
    from rental_analytics.local import source_db
    from rental_analytics.local.importer import rejects_dir
    from rental_analytics.sources.tables import APARTMENTS_TABLES

    source_db.ensure_schema(settings)
    conn = source_db.connect(settings)
    try:
        with conn.cursor() as cur:
            for spec in APARTMENTS_TABLES:
                cur.execute(f"truncate table `{spec.name}`")
        conn.commit()
    finally:
        conn.close()
    for old in rejects_dir(settings).glob("*.rejects.csv"):
        old.unlink()


@pytest.fixture
def clean_source(settings):
    """The test MariaDB with the source schema, all four tables empty, no import rejects."""
    empty_source(settings)
    return settings


@pytest.fixture
def env_home(stack_home, monkeypatch):
    """RENTALS_HOME pointing at the test stack, for code that reads the environment."""
    monkeypatch.setenv("RENTALS_HOME", str(stack_home))
    return stack_home


def pytest_collection_modifyitems(config, items):
    for item in items:
        path = str(item.fspath)
        if f"{os.sep}integration{os.sep}" in path:
            item.add_marker(pytest.mark.integration)
        if f"{os.sep}e2e{os.sep}" in path:
            item.add_marker(pytest.mark.e2e)
