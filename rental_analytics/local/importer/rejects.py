"""The rows of a file not imported: to the rejects CSV and to the warehouse's raw_data.rejects."""

from __future__ import annotations

import csv
import functools
import hashlib
import json
from datetime import datetime
from pathlib import Path

from rental_analytics.config import Settings
from rental_analytics.local.importer.errors import SourceImportError
from rental_analytics.local.importer.rows import RowParser
from rental_analytics.quality.rejects import (
    BATCH_ID_CHARS,
    RAW_ROW_WIDTH,
    REJECT_COLUMNS,
    REJECT_WIDTHS,
    record_staged,
    row_hash,
)
from rental_analytics.quality.rule_names import primary_key_rule
from rental_analytics.sources.headers import HeaderMatch
from rental_analytics.sources.tables import TableSpec
from rental_analytics.warehouse import connect

_REJECTS_CHUNK_ROWS = 5000


def rejects_dir(settings: Settings) -> Path:
    return settings.home / "rejects" / "source_import"


def _column_text(text: str, max_bytes: int) -> str:
    """Text for a varchar column: no NUL (PostgreSQL text cannot hold one), at most
    ``max_bytes`` UTF-8 bytes (cut on a character boundary, with an ellipsis)."""
    text = text.replace("\x00", "\\0")
    data = text.encode()
    if len(data) <= max_bytes:
        return text
    return data[: max_bytes - 3].decode(errors="ignore") + "..."


def _cut(value: object, max_chars: int) -> object:
    if isinstance(value, str) and len(value) > max_chars:
        return f"{value[:max_chars]}...[{len(value)} characters]"
    return value


def raw_row_json(raw: dict[str, object], max_bytes: int = RAW_ROW_WIDTH) -> str:
    """A raw record as compact JSON, non-ASCII kept (as Spark's ``to_json`` writes it), in
    at most ``max_bytes`` UTF-8 bytes: the longest texts are cut, saying so, until it fits."""
    text = json.dumps(raw, ensure_ascii=False, separators=(",", ":"))
    max_chars = 4096
    while len(text.encode()) > max_bytes:
        if max_chars < 16:
            text = json.dumps({"truncated": True, **{k: _cut(v, 64) for k, v in raw.items()}})
            return text if len(text.encode()) <= max_bytes else '{"truncated":true}'
        cut = {k: _cut(v, max_chars) for k, v in raw.items()}
        text = json.dumps(cut, ensure_ascii=False, separators=(",", ":"))
        max_chars //= 4
    return text


def reject_batch_id(table: str, path: Path) -> str:
    """The batch of the rows of one file not imported: ``import-<table>-<digest>``, the
    digest of the file's name and content. Reproducible, as a run's batches are: the same
    file imported into two homes gives the same rejects, batch for batch; the time of an
    import is in ``rejected_at``."""
    named = hashlib.md5(path.name.encode() + b"\0")
    with open(path, "rb") as fh:
        digest = hashlib.file_digest(fh, lambda: named).hexdigest()
    batch_id = f"import-{table}-{digest[:16]}"
    if len(batch_id) > BATCH_ID_CHARS:
        raise ValueError(f"reject batch id longer than {BATCH_ID_CHARS}: {batch_id}")
    return batch_id


# The rows of a file not imported form a batch of their own in the load ledger, written in
# the transaction that records them, as load_raw writes its batches: every batch_id of
# raw_data.rejects is a recorded batch (a warehouse rule checks it), and the ledger counts
# every input row once, the good ones in the pipeline batch that extracts them from the
# source, the others here (extracted = rejected, nothing loaded).
_LEDGER_INSERT = (
    "insert into raw_data.load_batches (source_table, batch_id, run_date, is_full_refresh,"
    " rows_extracted, rows_loaded, rows_rejected, rows_inserted, rows_updated, rows_deleted,"
    " loaded_at) select cast(%(t)s as varchar(128)), cast(%(b)s as varchar(64)),"
    " cast(%(at)s as date), false, %(n)s, 0, %(n)s, 0, 0, 0, cast(%(at)s as timestamp)"
    " where not exists (select 1 from raw_data.load_batches"
    " where source_table = cast(%(t)s as varchar(128)) and batch_id = cast(%(b)s as varchar(64)))"
)


class _RejectsTable:
    """Rows for the warehouse's raw_data.rejects, written through the warehouse interface.

    The rows of one file are staged in chunks (bulk copies, values never in SQL text) in a
    temporary table of this session, then moved in one transaction, the rows already
    recorded left out: importing a file twice records its rejects once. The warehouse is
    reached at the first row, with its DDL applied (an import may come before any run); an
    import without rejects does not need it.
    """

    def __init__(self, settings: Settings):
        self._settings = settings
        self._wh = None
        self._chunk: list[tuple] = []
        self.staged = 0

    def add(self, row: tuple) -> None:
        self._chunk.append(row)
        if len(self._chunk) >= _REJECTS_CHUNK_ROWS:
            self._flush()

    def commit(self, table: str, batch_id: str, imported_at: datetime) -> tuple[int, int]:
        """Move the staged rows into raw_data.rejects, with the ledger row of their batch:
        (rows staged, rows newly recorded)."""
        self._flush()
        if not self.staged:
            return 0, 0
        wh = self._warehouse()
        staged, self.staged = self.staged, 0
        wh.execute("analyze stage_rejects")  # its size, for the join with the table
        with wh.transaction():
            recorded = record_staged(wh)
            wh.execute("delete from stage_rejects")
            if recorded:
                wh.execute(
                    _LEDGER_INSERT,
                    {"t": table, "b": batch_id, "n": recorded, "at": imported_at},
                )
        return staged, recorded

    def close(self) -> None:
        if self._wh is not None:
            self._wh.close()
            self._wh = None

    def _flush(self) -> None:
        if not self._chunk:
            return
        # copy_rows: the local warehouse's bulk insert (the importer only runs locally).
        self.staged += self._warehouse().copy_rows("stage_rejects", REJECT_COLUMNS, self._chunk)
        self._chunk.clear()

    def _warehouse(self):
        if self._wh is None:
            try:
                wh = connect(self._settings)
            except Exception as exc:  # the engine's own connection error, with its reason
                raise SourceImportError(
                    f"cannot record rejects in the warehouse's raw_data.rejects: {exc}"
                    " (is the local stack up? `rentals up`)"
                ) from exc
            try:
                wh.execute("create temp table stage_rejects (like raw_data.rejects)")
            except BaseException:
                wh.close()
                raise
            self._wh = wh
        return self._wh


class _Rejects:
    """Where the rows of one input file that are not imported go: a rejected row to the
    rejects CSV (created at the first) and to raw_data.rejects, a superseded line to
    raw_data.rejects; each with its rule, reason and raw record (file name, line number)."""

    def __init__(
        self,
        path: Path,
        parser: RowParser,
        source: Path,
        rejected_at: datetime,
        table: _RejectsTable,
    ):
        self.path = path
        self.count = 0  # rejected rows
        self.superseded = 0  # superseded lines
        self._fh = None
        self._writer = None
        self._parser = parser
        self._source = source
        self._file_name = source.name
        self._rejected_at = rejected_at
        self._table = table
        self._source_table = parser.spec.name
        self._superseded_rule = primary_key_rule(parser.spec)
        self._width = parser.header.width
        self._names = _raw_row_names(parser.spec, parser.header)

    @functools.cached_property
    def batch_id(self) -> str:
        return reject_batch_id(self._source_table, self._source)

    def reject(
        self, line: int, rule: str, reason: str, fields: list[str] | None, texts: list[str]
    ) -> None:
        record = "".join(texts).rstrip("\r\n")  # as it is in the file
        self._write_csv(line, reason, record)
        self.count += 1
        if fields is not None and len(fields) == self._width:
            self._record(self._parser.record_key(fields), rule, reason, self._raw(line, fields))
        else:
            raw = {"source_file": self._file_name, "line_number": line, "record": record}
            self._record(None, rule, reason, raw)

    def supersede(self, line: int, winner: int, key: str, fields: list[str]) -> None:
        reason = (
            f"duplicate key in {self._file_name}: line {line} superseded by line {winner}"
            f" (key {key})"
        )
        self._record(key, self._superseded_rule, reason, self._raw(line, fields))
        self.superseded += 1

    def _raw(self, line: int, fields: list[str]) -> dict[str, object]:
        raw: dict[str, object] = {name: fields[position] for name, position in self._names}
        raw["source_file"] = self._file_name
        raw["line_number"] = line
        return raw

    def _record(self, key: str | None, rule: str, reason: str, raw: dict[str, object]) -> None:
        raw_row = raw_row_json(raw)
        rule = _column_text(rule, REJECT_WIDTHS["rule"])
        self._table.add(
            (
                self._source_table,
                None if key is None else _column_text(key, REJECT_WIDTHS["record_key"]),
                rule,
                _column_text(reason, REJECT_WIDTHS["reason"]),
                self.batch_id,
                raw_row,
                row_hash(raw_row, rule),
                self._rejected_at,
            )
        )

    def _write_csv(self, line: int, reason: str, record: str) -> None:
        if self._writer is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fh = open(self.path, "w", newline="", encoding="utf-8")  # noqa: SIM115
            self._writer = csv.writer(self._fh, lineterminator="\n")
            self._writer.writerow(["line_number", "reason", "record"])
        self._writer.writerow([line, reason, record])

    def __enter__(self) -> _Rejects:
        return self

    def __exit__(self, *exc_info) -> None:
        if self._fh is not None:
            self._fh.close()
        elif exc_info[0] is None:
            self.path.unlink(missing_ok=True)  # a report of an earlier import would mislead


def _raw_row_names(spec: TableSpec, header: HeaderMatch) -> list[tuple[str, int]]:
    """(name, position) of each field in a raw row: the spec's columns by their names, then
    the file's extra columns by their header names."""
    names = list(zip(spec.column_names, header.positions, strict=True))
    others = sorted(set(range(header.width)) - set(header.positions))
    taken = set(spec.column_names)
    for name, position in zip(header.extra_columns, others, strict=True):
        if name not in taken:
            names.append((name, position))
            taken.add(name)
    return names
