"""Upgrades in place (SPEC 4): ordered migrations of the tables, views rebuilt on every apply.

``redshift/migrations/NNNN_name/*.sql`` are the warehouse's versions: folder ``0001_initial``
holds the first DDL, every later change is a new folder with the next number, and a folder
once released is never edited. ``apply`` runs each migration the warehouse lacks, in order,
each in one transaction together with its row in ``warehouse_meta.schema_migrations``;
then, views being derived, it drops every view of ``presentation`` and creates each
``redshift/views`` file again in dependency order, in one transaction, so a view whose
columns change (which CREATE OR REPLACE VIEW refuses) is replaced too.

The runner uses only the project's warehouse interface (``transaction``, ``execute``,
``query``, ``run_file``): it works through the Redshift Data API, which has no DB-API
connection a migration library could use, and on the local PostgreSQL alike.

Only the owner applies (``rentals up``, ``rentals deploy``); a job calls ``require_version``
first and fails at once when the warehouse is at another version than its code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from rental_analytics.warehouse.base import Warehouse, WarehouseError, sql_dir
from rental_analytics.warehouse.sqltext import split_statements, strip_comments

META_SCHEMA = "warehouse_meta"
VERSION_TABLE = f"{META_SCHEMA}.schema_migrations"
VIEW_SCHEMA = "presentation"
_FOLDER = re.compile(r"^(\d{4})_([a-z0-9_]+)$")
_VIEW_NAME = re.compile(
    r"\bcreate\s+(?:or\s+replace\s+)?view\s+" + VIEW_SCHEMA + r"\.([a-z_][a-z0-9_]*)", re.I
)

# Each migration runs in one transaction. Redshift's ALTER TABLE reference
# (docs.aws.amazon.com/redshift/latest/dg/r_ALTER_TABLE.html) says ALTER TABLE "locks the
# table ... until the transaction enclosing the ALTER TABLE operation completes" and that
# only an external table cannot be altered inside a transaction block; a statement that
# cannot run in one (VACUUM, for instance) has no place in a migration. TRUNCATE commits
# at once in Redshift: migrations use DELETE.
META_DDL = (
    f"create schema if not exists {META_SCHEMA}",
    f"create table if not exists {VERSION_TABLE} ("
    " version integer not null, name varchar(256) not null,"
    " applied_at timestamp not null, primary key (version))",
)


class MigrationError(WarehouseError):
    """The migrations folder is malformed, or a migration failed (named)."""


class VersionMismatch(WarehouseError):
    """The warehouse is at another version than this code."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    files: tuple[Path, ...]

    @property
    def label(self) -> str:
        return f"{self.version:04d}_{self.name}"


@dataclass
class ApplyResult:
    before: int
    after: int
    applied: list[str] = field(default_factory=list)
    views: list[str] = field(default_factory=list)


def migrations_dir(root: Path | None = None) -> Path:
    return (root or sql_dir()) / "migrations"


def discover(folder: Path) -> list[Migration]:
    """The migrations under ``folder``, in order: numbered 1, 2, ... without gap or repeat,
    each a folder of at least one .sql file. Anything else there is an error, not skipped."""
    found: dict[int, Migration] = {}
    for entry in sorted(folder.iterdir()) if folder.is_dir() else ():
        match = _FOLDER.match(entry.name)
        if not entry.is_dir() or not match:
            raise MigrationError(f"{entry}: not a migration folder (expected NNNN_name/)")
        version = int(match.group(1))
        if version in found:
            raise MigrationError(f"{entry.name}: version {version} given twice")
        files = tuple(sorted(entry.glob("*.sql")))
        if not files:
            raise MigrationError(f"{entry.name}: no .sql file")
        found[version] = Migration(version, match.group(2), files)
    versions = sorted(found)
    if versions != list(range(1, len(versions) + 1)):
        raise MigrationError(f"{folder}: versions must be 1, 2, 3, ... without gaps: {versions}")
    if not versions:
        raise MigrationError(f"{folder}: no migrations")
    return [found[v] for v in versions]


def code_version(root: Path | None = None) -> int:
    return discover(migrations_dir(root))[-1].version


def warehouse_version(wh: Warehouse) -> int:
    """The highest version applied to the warehouse; 0 when it has no version table."""
    if not wh.table_exists(META_SCHEMA, "schema_migrations"):
        return 0
    _, rows = wh.query(f"select coalesce(max(version), 0) from {VERSION_TABLE}")  # noqa: S608
    return int(rows[0][0])


def view_order(views: dict[str, str]) -> list[str]:
    """View names so that every view comes after the views its SQL reads (ties by name)."""
    deps = {
        name: {
            other
            for other in views
            if other != name
            and re.search(rf"\b{VIEW_SCHEMA}\.{other}\b", strip_comments(text), re.I)
        }
        for name, text in views.items()
    }
    ordered: list[str] = []
    while len(ordered) < len(views):
        ready = sorted(n for n in views if n not in ordered and deps[n] <= set(ordered))
        if not ready:
            stuck = sorted(set(views) - set(ordered))
            raise MigrationError(f"views depend on each other in a cycle: {', '.join(stuck)}")
        ordered.append(ready[0])
    return ordered


def view_files(root: Path | None = None) -> dict[str, Path]:
    """``redshift/views`` by the presentation view each file creates."""
    files: dict[str, Path] = {}
    for path in sorted(((root or sql_dir()) / "views").glob("*.sql")):
        match = _VIEW_NAME.search(strip_comments(path.read_text()))
        if not match:
            raise MigrationError(f"{path.name}: creates no {VIEW_SCHEMA} view")
        files[match.group(1).lower()] = path
    return files


def rebuild_views(wh: Warehouse, root: Path | None = None) -> list[str]:
    """Drop every presentation view and create redshift/views again, in one transaction."""
    files = view_files(root)
    order = view_order({name: path.read_text() for name, path in files.items()})
    with wh.transaction():
        _, rows = wh.query(
            "select table_name from information_schema.views where table_schema = %(s)s",
            {"s": VIEW_SCHEMA},
        )
        for (name,) in rows:
            wh.execute(f'drop view if exists {VIEW_SCHEMA}."{name}" cascade')
        for name in order:
            wh.run_file(files[name])
    return order


def apply(wh: Warehouse, root: Path | None = None) -> ApplyResult:
    """Bring the warehouse to the code's version, rebuild the views, apply redshift/grants.sql.
    Idempotent: a warehouse at the code's version gets only its views and grants again."""
    migrations = discover(migrations_dir(root))
    for statement in META_DDL:
        wh.execute(statement)
    before = warehouse_version(wh)
    if before > migrations[-1].version:
        raise VersionMismatch(
            f"the warehouse is at version {before}, newer than this code's version "
            f"{migrations[-1].version}: deploy the newer code"
        )
    result = ApplyResult(before=before, after=before)
    for migration in migrations:
        if migration.version <= before:
            continue
        with wh.transaction():
            for path in migration.files:
                for statement in split_statements(path.read_text()):
                    try:
                        wh.execute(wh.adapt(statement))
                    except Exception as exc:
                        raise MigrationError(f"{migration.label}/{path.name}: {exc}") from exc
            wh.execute(
                f"insert into {VERSION_TABLE} (version, name, applied_at)"  # noqa: S608
                " values (%(v)s, %(n)s, %(at)s)",
                {"v": migration.version, "n": migration.name, "at": _now()},
            )
        result.applied.append(migration.label)
        result.after = migration.version
    result.views = rebuild_views(wh, root)
    grants = (root or sql_dir()) / "grants.sql"
    if grants.exists():  # views are new objects on every apply: grant again
        wh.run_file(grants)
    return result


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def require_version(wh: Warehouse, root: Path | None = None) -> int:
    """The warehouse's version when it equals the code's; else VersionMismatch naming both."""
    expected = code_version(root)
    actual = warehouse_version(wh)
    if actual != expected:
        raise VersionMismatch(
            f"the warehouse is at version {actual} but this code needs version {expected}: "
            + (
                "apply the migrations first (`rentals up` locally, `rentals deploy` in AWS)"
                if actual < expected
                else "deploy the code of that version"
            )
        )
    return actual
