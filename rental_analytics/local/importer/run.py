"""The import's entry points: a directory, a list of apartments files, vehicle files landed."""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

from rental_analytics.config import Settings
from rental_analytics.local import source_db
from rental_analytics.local.importer.errors import SourceImportError
from rental_analytics.local.importer.files import (
    TABLE_ORDER,
    UNKNOWN_FILE,
    _read_header,
    _skip_reason,
    classify_file,
    classify_landed_file,
)
from rental_analytics.local.importer.merge import _merge, _parse
from rental_analytics.local.importer.rejects import _RejectsTable
from rental_analytics.local.importer.summary import FileImport, ImportSummary
from rental_analytics.sources.landing import LandingError, land_files
from rental_analytics.sources.tables import get_table
from rental_analytics.storage import LocalLanding


def import_apartments(settings: Settings, directory: Path) -> ImportSummary:
    """Import every apartments-domain lab CSV directly in ``directory`` (not recursive).

    All headers are checked before any row is written, so a missing column leaves the
    database untouched. Other CSVs are listed as skipped.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise SourceImportError(f"{directory}: not a directory")
    csvs = sorted(p for p in directory.iterdir() if p.is_file() and p.suffix.lower() == ".csv")
    wanted = [p for p in csvs if classify_file(p.name)]
    skipped = [
        FileImport(path=p, table=None, skipped_reason=_skip_reason(p.name))
        for p in csvs
        if not classify_file(p.name)
    ]
    imported = import_files(settings, wanted)
    return ImportSummary(directory=directory, files=(*imported.files, *skipped))


def land_vehicle_files(settings: Settings, paths: Iterable[Path]) -> list[FileImport]:
    """Land vehicle-domain CSVs as one new landing batch (headers checked first)."""
    files = []
    for p in sorted(Path(p) for p in paths):
        spec = classify_landed_file(p.name)
        if spec is None:
            raise SourceImportError(f"{p}: not a vehicle-domain lab file name")
        files.append((spec, p))
    try:
        outcome = land_files(LocalLanding(settings.landing_root), files)
    except LandingError as exc:
        raise SourceImportError(str(exc)) from None
    tables = {p: spec.name for spec, p in files}
    return [
        FileImport(
            path=p,
            table=tables[p],
            landed_as=landed.key if landed else None,
            already_landed=landed is None,
        )
        for p, landed in outcome
    ]


def import_directory(settings: Settings, directory: Path) -> ImportSummary:
    """Import every lab CSV directly in ``directory``: apartments-domain files upsert into
    the source database, vehicle-domain files land as one new landing batch.

    Vehicle headers are checked before anything is imported, then apartments headers: a
    missing column anywhere leaves the source and the landing zone untouched.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise SourceImportError(f"{directory}: not a directory")
    csvs = sorted(p for p in directory.iterdir() if p.is_file() and p.suffix.lower() == ".csv")
    vehicle = [p for p in csvs if classify_landed_file(p.name)]
    apartments = [p for p in csvs if classify_file(p.name)]
    for p in apartments:
        _read_header(p, get_table(str(classify_file(p.name))))
    landed = land_vehicle_files(settings, vehicle) if vehicle else []
    imported = import_files(settings, apartments) if apartments else ImportSummary(directory)
    skipped = [
        FileImport(path=p, table=None, skipped_reason=UNKNOWN_FILE)
        for p in csvs
        if p not in vehicle and p not in apartments
    ]
    return ImportSummary(directory=directory, files=(*imported.files, *landed, *skipped))


def import_files(settings: Settings, paths: Iterable[Path]) -> ImportSummary:
    """Import the given apartments-domain CSVs (table chosen by file name), in table order.

    The rows of a file that are not imported (rejected, superseded) are recorded in the
    warehouse's raw_data.rejects before its good rows are merged into the source database.
    """
    paths = [Path(p) for p in paths]
    tables = {}
    for p in paths:
        table = classify_file(p.name)
        if table is None:
            raise SourceImportError(f"{p}: not an apartments-domain lab file name")
        tables[p] = table
    ordered = sorted(paths, key=lambda p: (TABLE_ORDER.index(tables[p]), p.name))
    headers = {p: _read_header(p, get_table(tables[p])) for p in ordered}
    # The time of the import: rejected_at of its rejects (audit only, it decides nothing).
    imported_at = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    source_db.ensure_schema(settings)
    conn = source_db.connect(settings)
    rejects_table = _RejectsTable(settings)
    try:
        with conn.cursor() as cur:
            lengths = {t: _max_lengths(cur, t) for t in sorted(set(tables.values()))}
        conn.rollback()
        results = []
        # Parse the next file while the database merges the previous one: mariadbd works
        # in its own process, so on two cores parsing and loading overlap. One worker
        # thread owns the connection from here on and merges the files in order; this
        # thread owns the warehouse connection and records each file's rejects.
        with ThreadPoolExecutor(max_workers=1) as database:
            merging = None
            for p in ordered:
                spec = get_table(tables[p])
                parsed = _parse(
                    settings, p, spec, headers[p], lengths[spec.name], rejects_table, imported_at
                )
                if merging is not None:
                    results.append(merging.result())
                merging = database.submit(_merge, conn, parsed)
            if merging is not None:
                results.append(merging.result())
    finally:
        conn.close()
        rejects_table.close()
    directory = ordered[0].parent if ordered else Path(".")
    return ImportSummary(directory=directory, files=results)


def _max_lengths(cur, table: str) -> dict[str, int]:
    cur.execute(
        "select column_name, character_maximum_length from information_schema.columns"
        " where table_schema = database() and table_name = %s"
        " and character_maximum_length is not null",
        (table,),
    )
    return {name.lower(): int(length) for name, length in cur.fetchall()}
