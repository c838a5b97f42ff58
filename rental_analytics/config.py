"""Typed settings, read from the environment (locally) or Glue job arguments (in AWS).

Nothing here reads a clock or holds a host, bucket or password: local values come from the
files `rentals up` writes under ``$RENTALS_HOME``, AWS values from job arguments and
Secrets Manager (see glue_jobs/).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from rental_analytics.runs import runs_root_of

DOMAINS = ("apartments", "vehicle_rentals")
# JDBC drivers of the source: MariaDB's locally, MySQL Connector/J (shipped by Glue) for
# Aurora MySQL. Both take a jdbc:mysql:// URL; what each needs after it is below.
MARIADB_JDBC_DRIVER = "org.mariadb.jdbc.Driver"
MYSQL_JDBC_DRIVER = "com.mysql.cj.jdbc.Driver"
_JDBC_URL_PARAMETERS = {
    # jdbc:mysql:// with the MariaDB driver: with jdbc:mariadb:// Spark 3.5 quotes
    # identifiers with '"', which MariaDB reads as string literals; the MariaDB driver
    # accepts the mysql scheme only with permitMysqlScheme.
    MARIADB_JDBC_DRIVER: "permitMysqlScheme&useUnicode=true",
    # Connector/J reads jdbc:mysql:// natively and speaks utf8mb4 by default; it would fall
    # back to plain text when TLS fails (sslMode=PREFERRED): Aurora is reached over TLS only.
    # It ignores the reader's fetchsize and reads a JDBC partition's whole result into memory
    # unless useCursorFetch=true (then the server keeps a cursor, fetchsize rows per trip).
    # MariaDB's driver streams with a fetch size alone (tests/integration/test_extract_memory.py).
    MYSQL_JDBC_DRIVER: "sslMode=REQUIRED&useCursorFetch=true",
}
# Columns a source adds beyond its table spec: reported and not extracted, or a failed job.
SCHEMA_DRIFT_IGNORE, SCHEMA_DRIFT_FAIL = "ignore", "fail"
SCHEMA_DRIFT_POLICIES = (SCHEMA_DRIFT_IGNORE, SCHEMA_DRIFT_FAIL)
_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


class ConfigError(ValueError):
    """A setting is missing or malformed; the message names it."""


def validate_identifier(name: str, what: str = "identifier") -> str:
    """Return ``name`` if it is a plain lowercase SQL identifier, else raise."""
    if not _IDENTIFIER.match(name or ""):
        raise ConfigError(f"invalid {what} {name!r}: expected [a-z_][a-z0-9_]*")
    return name


def parse_run_date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        raise ConfigError(f"invalid run date {value!r}: expected YYYY-MM-DD") from None


def parse_schema_drift(value: str, what: str = "schema_drift") -> str:
    """The policy for added source columns, written in any case: ignore or fail."""
    policy = value.strip().lower()
    if policy not in SCHEMA_DRIFT_POLICIES:
        raise _invalid_schema_drift(value, what)
    return policy


def _invalid_schema_drift(value: str, what: str) -> ConfigError:
    allowed = ", ".join(SCHEMA_DRIFT_POLICIES)
    return ConfigError(f"invalid {what} {value!r}: expected one of {allowed}")


def default_home() -> Path:
    env = os.environ.get("RENTALS_HOME")
    if env:
        return Path(env).expanduser().resolve()
    return (Path(__file__).resolve().parent.parent / ".rentals").resolve()


# The warehouse's database identities (SPEC 8), beside the stack's own admin login.
WAREHOUSE_IDENTITIES = ("owner", "job", "analyst")
ADMIN = "admin"


def warehouse_user(identity: str) -> str:
    """The login of a warehouse identity: ``rentals`` (admin) or ``rentals_<identity>``."""
    if identity == ADMIN:
        return "rentals"
    if identity not in WAREHOUSE_IDENTITIES:
        raise ConfigError(
            f"unknown warehouse identity {identity!r}: expected admin, "
            + ", ".join(WAREHOUSE_IDENTITIES)
        )
    return f"rentals_{identity}"


def _warehouse_password(secrets: dict, identity: str, home: Path) -> str:
    warehouse_user(identity)  # validates
    key = "postgres_password" if identity == ADMIN else f"warehouse_{identity}_password"
    if key not in secrets:
        raise ConfigError(f"no password of rentals_{identity} in {home}: run `rentals up`")
    return secrets[key]


@dataclass(frozen=True)
class DatabaseSettings:
    host: str
    port: int
    user: str
    password: str = field(repr=False)
    database: str

    def __str__(self) -> str:  # never print the password
        return f"{self.user}@{self.host}:{self.port}/{self.database}"


@dataclass(frozen=True)
class RedshiftSettings:
    """The Redshift warehouse in AWS, reached through the Redshift Data API: a serverless
    workgroup or a provisioned cluster (exactly one), a database, and for a cluster the
    Secrets Manager secret of its user; COPY reads the lake with ``copy_role_arn``."""

    database: str
    copy_role_arn: str
    workgroup: str = ""
    cluster_id: str = ""
    secret_arn: str = ""
    region: str = ""

    def __post_init__(self) -> None:
        if bool(self.workgroup) == bool(self.cluster_id):
            raise ConfigError("Redshift: give exactly one of a workgroup and a cluster id")


@dataclass(frozen=True)
class Settings:
    """Where a job's data and state live and how it reaches its engines.

    Locally (``Settings.local``) roots are folders under the home and the warehouse is
    PostgreSQL. In AWS (``rental_analytics.aws.settings``) there is no home, the roots are
    s3:// URIs, ``runs_root`` is empty (metrics go to the log only), the warehouse is
    ``redshift`` and Spark is the session of the Glue run (``spark_master`` empty).
    """

    home: Path | None  # None in AWS
    lake_root: str
    landing_root: str
    bookmarks_root: str
    runs_root: str  # "" when job metrics are not kept as files (AWS)
    source: DatabaseSettings
    warehouse: DatabaseSettings | None = None  # PostgreSQL locally; None with ``redshift``
    source_jdbc_driver: str = MARIADB_JDBC_DRIVER
    source_jdbc_jars: tuple[str, ...] = ("/usr/share/java/mariadb-java-client.jar",)
    bookings_lookback_days: int = 30
    # "" = the session of the cluster that launched the job (Glue), not a local one.
    spark_master: str = "local[2]"
    schema_drift: str = SCHEMA_DRIFT_IGNORE  # added source columns: ignore (noted) or fail
    # Tables a job works on side by side (jobs/concurrent.py); 1: one after another.
    tables_at_once: int = 2
    # In AWS the warehouse is Redshift (``warehouse`` then unused); locally None: PostgreSQL.
    redshift: RedshiftSettings | None = None

    def __post_init__(self) -> None:
        if self.schema_drift not in SCHEMA_DRIFT_POLICIES:
            raise _invalid_schema_drift(self.schema_drift, "schema_drift")
        if self.bookings_lookback_days < 0:
            raise ConfigError(
                f"invalid bookings_lookback_days {self.bookings_lookback_days}: expected >= 0"
            )
        if self.tables_at_once < 1:
            raise ConfigError(f"invalid tables_at_once {self.tables_at_once}: expected >= 1")
        if self.warehouse is None and self.redshift is None:
            raise ConfigError("no warehouse: give PostgreSQL settings or Redshift settings")

    @property
    def source_jdbc_url(self) -> str:
        s = self.source
        url = f"jdbc:mysql://{s.host}:{s.port}/{s.database}"
        parameters = _JDBC_URL_PARAMETERS.get(self.source_jdbc_driver, "")
        return f"{url}?{parameters}" if parameters else url

    @classmethod
    def local(cls, home: Path | None = None, identity: str = "admin") -> Settings:
        """Settings of a local home, from the stack file that `rentals up` writes.

        ``identity`` is the warehouse login (SPEC 8): ``admin``, the stack's own superuser
        that operators and tests read everything with, or one of ``WAREHOUSE_IDENTITIES``
        (``job`` for the jobs), a PostgreSQL role ``rentals_<identity>`` whose generated
        password `rentals up` keeps in the home's secrets.
        """
        home = home or default_home()
        stack_file = home / "stack.json"
        if not stack_file.exists():
            raise ConfigError(f"no local stack in {home}: run `rentals up` first")
        stack = json.loads(stack_file.read_text())
        secrets = json.loads((home / "secrets.json").read_text())
        return cls(
            home=home,
            lake_root=str(home / "lake"),
            landing_root=str(home / "landing"),
            bookmarks_root=str(home / "bookmarks"),
            runs_root=str(runs_root_of(home)),
            source=DatabaseSettings(
                host=stack.get("mariadb_host", "127.0.0.1"),
                port=int(stack["mariadb_port"]),
                user="rentals",
                password=secrets["mariadb_password"],
                database="rental_db",
            ),
            warehouse=DatabaseSettings(
                host=stack.get("postgres_host", "127.0.0.1"),
                port=int(stack["postgres_port"]),
                user=warehouse_user(identity),
                password=_warehouse_password(secrets, identity, home),
                database="warehouse",
            ),
            bookings_lookback_days=int(os.environ.get("RENTALS_BOOKINGS_LOOKBACK_DAYS", "30")),
            tables_at_once=int(os.environ.get("RENTALS_TABLES_AT_ONCE", "2")),
            schema_drift=parse_schema_drift(
                os.environ.get("RENTALS_SCHEMA_DRIFT", SCHEMA_DRIFT_IGNORE), "RENTALS_SCHEMA_DRIFT"
            ),
        )
