"""One file parsed (its rejects recorded), then merged into its table by primary key."""

from __future__ import annotations

import csv
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from rental_analytics.config import Settings
from rental_analytics.local.importer.csv_records import records
from rental_analytics.local.importer.errors import RowRejected, SourceImportError
from rental_analytics.local.importer.files import _open_csv
from rental_analytics.local.importer.rejects import _Rejects, _RejectsTable, rejects_dir
from rental_analytics.local.importer.rows import RowParser, key_text
from rental_analytics.local.importer.summary import FileImport
from rental_analytics.quality.rule_names import WELL_FORMED_RULE
from rental_analytics.sources.headers import HeaderMatch
from rental_analytics.sources.tables import TableSpec

_MAX_CSV_FIELD = 1 << 24


def _parse_file(path: Path, parser: RowParser, rejects: _Rejects) -> tuple[dict[object, str], int]:
    """Parse every data row: good rows by primary key (a later line with the same key
    wins), bad rows and superseded lines to ``rejects``. Returns (good rows, rows read)."""
    rows: dict[object, str] = {}
    kept_line: dict[object, int] = {}  # the line of each key's row in ``rows``
    superseded: dict[int, object] = {}  # line -> key, of rows a later line replaced
    rows_read = 0
    width = parser.header.width
    csv.field_size_limit(_MAX_CSV_FIELD)
    try:
        with _open_csv(path) as fh:
            for line, fields, error, texts in records(fh, width):
                rows_read += 1
                if fields is None:
                    rejects.reject(line, WELL_FORMED_RULE, str(error), None, texts)
                    continue
                try:
                    key, tsv = parser.parse(fields)
                except RowRejected as exc:
                    rejects.reject(line, exc.rule, str(exc), fields, texts)
                    continue
                if key in rows:
                    superseded[kept_line[key]] = key
                rows[key] = tsv
                kept_line[key] = line
        if superseded:
            # A second reading for the raw text of the superseded lines: rare, and cheaper
            # than holding the raw fields of every row until the end of the file.
            with _open_csv(path) as fh:
                for line, fields, _, _ in records(fh, width):
                    key = superseded.get(line)
                    if key is not None and fields is not None:
                        rejects.supersede(line, kept_line[key], key_text(key), fields)
    except UnicodeDecodeError as exc:
        raise SourceImportError(f"{path.name}: not UTF-8 text: {exc}") from None
    if rejects.superseded != len(superseded):
        raise SourceImportError(
            f"{path.name}: found {rejects.superseded} of {len(superseded)} superseded lines"
            " again (a bug)"
        )
    return rows, rows_read


@dataclass(frozen=True)
class _ParsedFile:
    path: Path
    spec: TableSpec
    header: HeaderMatch
    rows: dict[object, str]  # primary key -> TSV line
    rows_read: int
    rejects: _Rejects
    batch_id: str | None  # of the rows not imported, if any
    rejects_recorded: int
    started: float


def _parse(
    settings: Settings,
    path: Path,
    spec: TableSpec,
    header: HeaderMatch,
    lengths: dict[str, int],
    rejects_table: _RejectsTable,
    imported_at: datetime,
) -> _ParsedFile:
    """Parse one file and record its rows that are not imported in raw_data.rejects."""
    started = time.monotonic()
    parser = RowParser(spec, header, lengths)
    with _Rejects(
        rejects_dir(settings) / f"{path.stem}.rejects.csv",
        parser,
        path,
        imported_at,
        rejects_table,
    ) as rejects:
        rows, rows_read = _parse_file(path, parser, rejects)
    not_imported = rejects.superseded + rejects.count
    if rows_read != len(rows) + not_imported:
        raise SourceImportError(
            f"{path.name}: {rows_read} rows read != {len(rows)} keys to upsert + "
            f"{rejects.superseded} superseded + {rejects.count} rejected (a bug)"
        )
    batch_id = rejects.batch_id if not_imported else None
    staged, recorded = rejects_table.commit(spec.name, batch_id or "", imported_at)
    if staged != not_imported:
        raise SourceImportError(
            f"{path.name}: {staged} rows staged for raw_data.rejects != "
            f"{rejects.superseded} superseded + {rejects.count} rejected (a bug)"
        )
    return _ParsedFile(path, spec, header, rows, rows_read, rejects, batch_id, recorded, started)


def _merge(conn, parsed: _ParsedFile) -> FileImport:
    inserted, changed, unchanged = _upsert(conn, parsed.spec, parsed.rows.values())
    rejects = parsed.rejects
    return FileImport(
        path=parsed.path,
        table=parsed.spec.name,
        rows_read=parsed.rows_read,
        rows_upserted=inserted + changed + unchanged,
        rows_inserted=inserted,
        rows_updated=changed,
        rows_rejected=rejects.count,
        duplicate_keys=rejects.superseded,
        reject_file=rejects.path if rejects.count else None,
        rejects_batch_id=parsed.batch_id,
        rejects_recorded=parsed.rejects_recorded,
        extra_columns=parsed.header.extra_columns,
        seconds=round(time.monotonic() - parsed.started, 3),
    )


def _upsert(conn, spec: TableSpec, lines: Iterable[str]) -> tuple[int, int, int]:
    """Bulk load the TSV lines into a temporary table and merge them into the table by
    primary key, in one transaction. Returns (rows inserted, changed, unchanged); rows
    that cannot be told apart fail the import before it commits."""
    table = spec.name
    tmp = f"tmp_import_{table}"
    columns = ", ".join(f"`{c}`" for c in spec.column_names)
    updates = ", ".join(
        f"`{c}` = values(`{c}`)" for c in spec.column_names if c not in spec.primary_key
    )
    join = " and ".join(f"t.`{k}` = s.`{k}`" for k in spec.primary_key)
    with tempfile.TemporaryDirectory(prefix="rentals-import-") as tmp_dir:
        tsv = Path(tmp_dir) / f"{table}.tsv"
        expected = 0
        with open(tsv, "w", encoding="utf-8", newline="") as out:
            for line in lines:
                out.write(line)
                out.write("\n")
                expected += 1
        # Identifiers come from the table specs (validated plain names), never from a file.
        try:
            with conn.cursor() as cur:
                cur.execute(f"drop temporary table if exists `{tmp}`")
                cur.execute(f"create temporary table `{tmp}` as select * from `{table}` limit 0")  # noqa: S608
                cur.execute(
                    f"load data local infile %s into table `{tmp}` character set utf8mb4"
                    r" fields terminated by '\t' escaped by '\\' lines terminated by '\n'"
                    f" ({columns})",
                    (str(tsv),),
                )
                loaded = cur.rowcount
                cur.execute("show warnings limit 3")
                warnings = cur.fetchall()
                if warnings or loaded != expected:
                    # Rows are validated before loading: this is a bug, not dirty data.
                    raise SourceImportError(
                        f"{table}: bulk load took {loaded} of {expected} rows; warnings: {warnings}"
                    )
                cur.execute(f"select count(*) from `{tmp}` s join `{table}` t on {join}")  # noqa: S608
                existing = int(cur.fetchone()[0])
                affected = cur.execute(
                    f"insert into `{table}` ({columns}) select {columns} from `{tmp}`"  # noqa: S608
                    f" on duplicate key update {updates}"
                )
                cur.execute(f"drop temporary table `{tmp}`")
                inserted = loaded - existing
                # ON DUPLICATE KEY UPDATE reports 1 per inserted row, 2 per changed row, 0
                # per unchanged row.
                changed, odd = divmod(affected - inserted, 2)
                if odd or not 0 <= changed <= existing:
                    raise SourceImportError(
                        f"{table}: upsert of {loaded} rows ({existing} present) reported "
                        f"{affected} rows affected: new, changed and unchanged do not add up"
                    )
            conn.commit()
        except BaseException:
            conn.rollback()
            raise
    return inserted, changed, existing - changed
