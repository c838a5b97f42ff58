"""Import lab-format CSVs of the apartments domain into the local source database.

The lab exports (``shared/datasets/``) are CSV with a header, dates ``dd/MM/yyyy`` and
booleans ``True``/``False``. Each file is checked against its table's spec, parsed row by
row, and its good rows are upserted by primary key: a TSV of the normalised rows is bulk
loaded (``LOAD DATA LOCAL INFILE``) into a temporary table, then merged with
``INSERT ... SELECT ... ON DUPLICATE KEY UPDATE``; one transaction per file.

Every row read is upserted, superseded by a later line with the same key, or rejected;
the file's summary states that sum and the import fails if it does not hold. A rejected
row goes with its line number and reason to
``$RENTALS_HOME/rejects/source_import/<file stem>.rejects.csv``, and, with each superseded
line, to the warehouse's ``raw_data.rejects`` under the rule it breaks, named as the
pipeline's rejects name theirs (``WellFormedRecord``, ``ColumnDataType "col" = "DATE"``,
``ColumnLength "col" <= N``, ``IsComplete "col"``, ``IsPrimaryKey "key"``): rows that
never reach the source database are found beside those the pipeline rejects later.

Vehicle-domain files (vehicles, locations, users, rental_transactions) are not imported
into the database: :func:`import_directory` lands them in the landing zone as a new batch,
where the next run's extraction reads them (``import_apartments`` lists them as skipped).
"""

from __future__ import annotations

import csv
import functools
import hashlib
import json
import re
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path

from rental_analytics.config import Settings
from rental_analytics.local import source_db
from rental_analytics.quality.rule_names import (
    WELL_FORMED_RULE,
    complete_rule,
    data_type_rule,
    length_rule,
    primary_key_rule,
)
from rental_analytics.sources import headers
from rental_analytics.sources.headers import HeaderMatch
from rental_analytics.sources.landing import LandingError, land_files
from rental_analytics.sources.tables import VEHICLE_RENTALS_TABLES, TableSpec, get_table
from rental_analytics.storage import LocalLanding

# Import order: the tables have no foreign keys (references may dangle, as in the lab
# data), so any order works; parents first keeps a partial failure easy to read.
TABLE_ORDER = ("apartments", "apartment_attributes", "user_viewing", "bookings")
VEHICLE_FILE_PREFIXES = ("vehicles", "locations", "location", "users", "rental_transactions")
NOT_APARTMENTS_DOMAIN = "not an apartments-domain file"
UNKNOWN_FILE = "unrecognised file name"

NULL_TOKEN = "\\N"  # NULL in the TSV read by LOAD DATA
_INT32 = (-(2**31), 2**31 - 1)
_MIN_YEAR = 1000  # MariaDB DATE/DATETIME range starts at 1000-01-01
_TEXT_BYTES = 65_535
_MAX_CSV_FIELD = 1 << 24

_DMY = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})", re.ASCII)
_ISO = re.compile(r"(\d{4})-(\d{2})-(\d{2})", re.ASCII)
_DMY_TIME = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})[ T](\d{1,2}):(\d{2})(?::(\d{2}))?", re.ASCII)
_ISO_TIME = re.compile(r"(\d{4})-(\d{2})-(\d{2})[ T](\d{1,2}):(\d{2})(?::(\d{2}))?", re.ASCII)
_INT = re.compile(r"[+-]?\d+(?:\.0*)?", re.ASCII)
_ANY_DECIMAL = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)
_DECIMAL_TYPE = re.compile(r"decimal\((\d+),\s*(\d+)\)")
_BOOLS = {"true": True, "false": False, "1": True, "0": False}


class SourceImportError(ValueError):
    """A file cannot be imported at all (missing column, no header, ...); names the file."""


class RowRejected(ValueError):
    """One row cannot be imported: ``rule`` is the rule it breaks, the message the reason."""

    def __init__(self, rule: str, reason: str):
        super().__init__(reason)
        self.rule = rule


# -- pure parsing ------------------------------------------------------------------------


def parse_date(text: str) -> date:
    """``dd/MM/yyyy`` (the lab format) or ``yyyy-MM-dd``."""
    s = text.strip()
    m = _DMY.fullmatch(s)
    if m:
        day, month, year = (int(g) for g in m.groups())
    else:
        m = _ISO.fullmatch(s)
        if not m:
            raise ValueError(f"not a date (expected dd/MM/yyyy or yyyy-MM-dd): {text!r}")
        year, month, day = (int(g) for g in m.groups())
    return _checked_date(text, year, month, day)


def parse_datetime(text: str) -> datetime:
    """A DATETIME column: a date as in :func:`parse_date` (midnight), or with a time,
    ``dd/MM/yyyy HH:mm[:ss]`` / ``yyyy-MM-dd HH:mm[:ss]``."""
    s = text.strip()
    if len(s) <= 10:
        d = parse_date(s)
        return datetime(d.year, d.month, d.day)
    m = _DMY_TIME.fullmatch(s)
    if m:
        day, month, year = (int(g) for g in m.groups()[:3])
    else:
        m = _ISO_TIME.fullmatch(s)
        if not m:
            raise ValueError(
                f"not a date-time (expected dd/MM/yyyy[ HH:mm[:ss]] or yyyy-MM-dd[ HH:mm:ss]): {text!r}"
            )
        year, month, day = (int(g) for g in m.groups()[:3])
    hour, minute, second = int(m.group(4)), int(m.group(5)), int(m.group(6) or 0)
    d = _checked_date(text, year, month, day)
    try:
        return datetime(d.year, d.month, d.day, hour, minute, second)
    except ValueError:
        raise ValueError(f"invalid time of day: {text!r}") from None


def _checked_date(text: str, year: int, month: int, day: int) -> date:
    if year < _MIN_YEAR:
        raise ValueError(f"year out of range: {text!r}")
    try:
        return date(year, month, day)
    except ValueError:
        raise ValueError(f"invalid calendar date: {text!r}") from None


def parse_bool(text: str) -> bool:
    """``True``/``False`` (the lab format), any case, or ``1``/``0``."""
    value = _BOOLS.get(text.strip().lower())
    if value is None:
        raise ValueError(f"not a boolean (expected True/False or 1/0): {text!r}")
    return value


def parse_int(text: str) -> int:
    """A 32-bit integer; ``3.0`` is accepted (integers written by float-typed exports)."""
    s = text.strip()
    if not _INT.fullmatch(s):
        raise ValueError(f"not an integer: {text!r}")
    value = int(s.split(".", 1)[0])
    if not _INT32[0] <= value <= _INT32[1]:
        raise ValueError(f"integer out of range: {text!r}")
    return value


def parse_decimal(text: str, precision: int = 10, scale: int = 2) -> Decimal:
    """A ``DECIMAL(precision, scale)``: extra decimals are rounded half-up (as MySQL does),
    values that do not fit are out of range. No currency signs or thousands separators."""
    s = text.strip()
    if not _ANY_DECIMAL.fullmatch(s):
        raise ValueError(f"not a number: {text!r}")
    try:
        value = Decimal(s).quantize(Decimal(1).scaleb(-scale), rounding=ROUND_HALF_UP)
    except InvalidOperation:
        raise ValueError(
            f"number out of range for decimal({precision},{scale}): {text!r}"
        ) from None
    if abs(value) >= Decimal(10) ** (precision - scale):
        raise ValueError(f"number out of range for decimal({precision},{scale}): {text!r}")
    return value


# -- files and headers -------------------------------------------------------------------


def classify_file(name: str) -> str | None:
    """The apartments-domain table a lab CSV holds, from its name, or None.

    ``apartments*.csv``, ``apartment_attributes*.csv``, ``bookings*.csv``,
    ``user_viewing*.csv``; case-insensitive. (``apartment_attributes`` does not start with
    ``apartments``, so the two never mix.)
    """
    lower = name.lower()
    if not lower.endswith(".csv"):
        return None
    for table in TABLE_ORDER:
        if lower.startswith(table):
            return table
    return None


def _skip_reason(name: str) -> str:
    lower = name.lower()
    return NOT_APARTMENTS_DOMAIN if lower.startswith(VEHICLE_FILE_PREFIXES) else UNKNOWN_FILE


def match_header(header: Sequence[str], spec: TableSpec, file_name: str) -> HeaderMatch:
    """:func:`rental_analytics.sources.headers.match_header`, failing as an import error."""
    try:
        return headers.match_header(header, spec, file_name)
    except headers.HeaderError as exc:
        raise SourceImportError(str(exc)) from None


# -- rows --------------------------------------------------------------------------------


def _tsv_string(s: str) -> str:
    if "\\" in s or "\t" in s or "\n" in s or "\r" in s:
        s = s.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return s


def _memoised(convert: Callable[[str], str]) -> Callable[[str], str]:
    """Memoise a converter of few distinct values (dates, booleans): lab files repeat
    about 2,000 dates across 500,000 rows. Failures are remembered too: a file written
    with another date layout fails every row the same way."""
    known: dict[str, str] = {}
    failed: dict[str, tuple[str, str]] = {}

    def lookup(raw: str) -> str:
        token = known.get(raw)
        if token is None:
            failure = failed.get(raw)
            if failure is not None:
                raise RowRejected(*failure)
            try:
                token = convert(raw)
            except RowRejected as exc:
                if len(failed) < 10_000:
                    failed[raw] = (exc.rule, str(exc))
                raise
            if len(known) < 100_000:
                known[raw] = token
        return token

    return lookup


def column_converter(
    name: str, logical_type: str, nullable: bool = True, max_length: int | None = None
) -> Callable[[str], str]:
    """A function from a raw CSV field to its TSV token for ``LOAD DATA`` (``\\N`` for
    NULL), raising :class:`RowRejected` with the rule broken and a reason naming the column.

    Each type has a fast path for the common well-formed value; anything else goes
    through the ``parse_*`` functions above, which decide and explain.
    """

    def null_or_reject() -> str:
        if not nullable:
            raise RowRejected(
                complete_rule(name), f"{name}: NULL in a required (primary key) column"
            )
        return NULL_TOKEN

    type_rule = data_type_rule(name, logical_type)

    def guarded(parse: Callable[[str], str]) -> Callable[[str], str]:
        def convert(raw: str) -> str:
            if not raw or raw.isspace():
                return null_or_reject()
            try:
                return parse(raw)
            except ValueError as exc:
                raise RowRejected(type_rule, f"{name}: {exc}") from None

        return convert

    if logical_type in ("int", "bigint"):
        slow = guarded(lambda raw: str(parse_int(raw)))

        def int_token(raw: str) -> str:
            # Plain digits without a leading zero are already canonical (keys compare equal).
            if raw.isdigit() and len(raw) < 10 and raw.isascii() and (raw[0] != "0" or raw == "0"):
                return raw
            return slow(raw)

        return int_token
    if logical_type == "date":
        return _memoised(guarded(lambda raw: parse_date(raw).isoformat()))
    if logical_type == "timestamp":
        return _memoised(guarded(lambda raw: parse_datetime(raw).isoformat(" ")))
    if logical_type == "boolean":
        return _memoised(guarded(lambda raw: "1" if parse_bool(raw) else "0"))
    m = _DECIMAL_TYPE.fullmatch(logical_type)
    if m:
        precision, scale = int(m.group(1)), int(m.group(2))
        fits = re.compile(
            rf"-?\d{{1,{precision - scale}}}(?:\.\d{{1,{scale}}})?"
            if scale
            else rf"-?\d{{1,{precision}}}",
            re.ASCII,
        ).fullmatch
        slow = guarded(lambda raw: str(parse_decimal(raw, precision, scale)))

        def decimal_token(raw: str) -> str:
            return raw if fits(raw) else slow(raw)  # a value that fits is read as is

        return decimal_token
    if logical_type in ("string", "text"):
        # Widths are UTF-8 bytes, as the warehouse's VARCHAR(n) counts them (AWS docs:
        # r_Character_types): what fits MariaDB's n characters may not fit n bytes.
        # Characters to check before counting bytes: a character is at most 4 bytes.
        quick_limit = None if max_length is None else max_length // 4

        def string_token(raw: str) -> str:
            if not raw:  # empty field = NULL; whitespace is data (' confirmed ' is kept)
                return null_or_reject()
            if quick_limit is not None and len(raw) > quick_limit:
                size = len(raw.encode())
                if size > max_length:
                    raise RowRejected(
                        length_rule(name, max_length),
                        f"{name}: value too long ({size} > {max_length} bytes of UTF-8)",
                    )
            if "\x00" in raw:  # MariaDB keeps it, but no warehouse text column can hold it
                raise RowRejected(
                    type_rule, f"{name}: contains a NUL character (U+0000), not storable as text"
                )
            return _tsv_string(raw)

        return string_token
    raise ValueError(f"column {name}: unsupported logical type {logical_type!r}")


class RowParser:
    """Turns the fields of one CSV row into ``(primary key, TSV line)``."""

    def __init__(
        self, spec: TableSpec, header: HeaderMatch, max_lengths: dict[str, int] | None = None
    ):
        max_lengths = max_lengths or {}
        self.spec = spec
        self.header = header
        pk = set(spec.primary_key)
        self._plan = [
            (
                position,
                column_converter(
                    c.name,
                    c.type,
                    nullable=c.nullable and c.name not in pk,
                    max_length=max_lengths.get(c.name, _TEXT_BYTES if c.type == "text" else None),
                ),
            )
            for c, position in zip(spec.columns, header.positions, strict=True)
        ]
        self._key_indexes = [spec.column_names.index(k) for k in spec.primary_key]

    def parse(self, fields: Sequence[str]) -> tuple[object, str]:
        """The row's key and TSV line; :class:`RowRejected` naming every rule it breaks
        (joined with ``; `` as the pipeline joins them), not only the first."""
        if len(fields) != self.header.width:
            raise RowRejected(
                WELL_FORMED_RULE,
                f"wrong number of fields: expected {self.header.width}, got {len(fields)}",
            )
        try:
            tokens = [convert(fields[position]) for position, convert in self._plan]
        except RowRejected:
            raise self._all_failures(fields) from None
        if len(self._key_indexes) == 1:
            key: object = tokens[self._key_indexes[0]]
        else:
            key = tuple(tokens[i] for i in self._key_indexes)
        return key, "\t".join(tokens)

    def _all_failures(self, fields: Sequence[str]) -> RowRejected:
        failures = []
        for position, convert in self._plan:
            try:
                convert(fields[position])
            except RowRejected as exc:
                failures.append(exc)
        return RowRejected("; ".join(f.rule for f in failures), "; ".join(str(f) for f in failures))

    def record_key(self, fields: Sequence[str]) -> str | None:
        """The primary key of a row as text, as the pipeline's rejects write it (``a|b``,
        ``NULL`` for an empty part), normalised where a part parses (``007`` is ``7``); None
        when the fields do not line up with the header."""
        if len(fields) != self.header.width:
            return None
        parts = []
        for i in self._key_indexes:
            position, convert = self._plan[i]
            try:
                parts.append(convert(fields[position]))
            except RowRejected:
                parts.append(fields[position].strip() or "NULL")
        return "|".join(parts)


def key_text(key: object) -> str:
    """A parsed primary key (a value, or a tuple of them) as text: ``a|b``."""
    return "|".join(key) if isinstance(key, tuple) else str(key)


# -- summary -----------------------------------------------------------------------------


@dataclass(frozen=True)
class FileImport:
    """What happened to one file of the directory.

    For an imported file, ``rows_read = rows_inserted + rows_updated + rows_unchanged +
    duplicate_keys + rows_rejected``; the superseded and rejected lines are in
    ``raw_data.rejects`` under ``rejects_batch_id``.
    """

    path: Path
    table: str | None  # None: skipped
    rows_read: int = 0
    rows_upserted: int = 0  # distinct keys written: inserted + updated + unchanged
    rows_inserted: int = 0
    rows_updated: int = 0
    rows_rejected: int = 0
    duplicate_keys: int = 0  # rows superseded by a later line with the same primary key
    reject_file: Path | None = None
    rejects_batch_id: str | None = None  # raw_data.rejects.batch_id of this file's import
    rejects_recorded: int = 0  # rows added to raw_data.rejects (not already recorded)
    extra_columns: tuple[str, ...] = ()
    skipped_reason: str | None = None
    seconds: float = 0.0
    landed_as: str | None = None  # vehicle domain: the landing key the file was copied to
    already_landed: bool = False  # vehicle domain: the same content is already landed

    @property
    def rows_unchanged(self) -> int:
        return self.rows_upserted - self.rows_inserted - self.rows_updated

    @property
    def rows_not_imported(self) -> int:
        """Superseded and rejected lines: the rows of the file in raw_data.rejects."""
        return self.duplicate_keys + self.rows_rejected

    def describe(self) -> str:
        if self.table is None:
            return f"{self.path.name}: skipped ({self.skipped_reason})"
        if self.already_landed:
            return f"{self.path.name} -> {self.table}: not landed again (same content landed)"
        if self.landed_as:
            return (
                f"{self.path.name} -> {self.table}: landed as {self.landed_as} "
                "(the next run checks and loads its rows)"
            )
        parts = [
            f"{self.path.name} -> {self.table}: {self.rows_read} read = "
            f"{self.rows_inserted + self.rows_updated} upserted ({self.rows_inserted} new, "
            f"{self.rows_updated} changed) + {self.rows_unchanged} unchanged + "
            f"{self.duplicate_keys} superseded + {self.rows_rejected} rejected"
        ]
        if self.duplicate_keys:
            parts.append("superseded: the later line with the same primary key won")
        if self.rows_not_imported:
            already = self.rows_not_imported - self.rejects_recorded
            parts.append(
                f"superseded and rejected rows in raw_data.rejects, batch_id "
                f"{self.rejects_batch_id}"
                + (f" ({already} recorded by an earlier import)" if already else "")
            )
        if self.reject_file:
            parts.append(f"rejects in {self.reject_file}")
        if self.extra_columns:
            parts.append(f"extra columns ignored: {', '.join(self.extra_columns)}")
        return "; ".join(parts)


@dataclass(frozen=True)
class ImportSummary:
    directory: Path
    files: tuple[FileImport, ...] = field(default=())

    @property
    def imported(self) -> tuple[FileImport, ...]:
        return tuple(f for f in self.files if f.table is not None)

    @property
    def skipped(self) -> tuple[FileImport, ...]:
        return tuple(f for f in self.files if f.table is None)

    @property
    def rows_upserted(self) -> int:
        return sum(f.rows_upserted for f in self.files)

    @property
    def rows_rejected(self) -> int:
        return sum(f.rows_rejected for f in self.files)

    @property
    def rows_superseded(self) -> int:
        return sum(f.duplicate_keys for f in self.files)

    def for_table(self, table: str) -> tuple[FileImport, ...]:
        return tuple(f for f in self.files if f.table == table)

    def lines(self) -> list[str]:
        return [f.describe() for f in self.files]


# -- import ------------------------------------------------------------------------------


def rejects_dir(settings: Settings) -> Path:
    return settings.home / "rejects" / "source_import"


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


def classify_landed_file(name: str) -> TableSpec | None:
    """The vehicle-domain table a lab CSV feeds, from its name (``users*.csv`` ->
    rental_users, ``location*.csv`` -> locations, ...), or None."""
    lower = name.lower()
    if not lower.endswith(".csv"):
        return None
    for spec in VEHICLE_RENTALS_TABLES:
        if any(lower.startswith(n.removesuffix(".csv")) for n in spec.file_names):
            return spec
    return None


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


def _open_csv(path: Path):
    # utf-8-sig: exports from Excel start with a byte order mark.
    return open(path, newline="", encoding="utf-8-sig")


def _read_header(path: Path, spec: TableSpec) -> HeaderMatch:
    with _open_csv(path) as fh:
        try:
            header = next(csv.reader(fh))
        except StopIteration:
            raise SourceImportError(f"{path.name}: empty file, expected a header line") from None
        except (csv.Error, UnicodeDecodeError) as exc:
            raise SourceImportError(f"{path.name}: unreadable header: {exc}") from None
    return match_header(header, spec, path.name)


def _max_lengths(cur, table: str) -> dict[str, int]:
    cur.execute(
        "select column_name, character_maximum_length from information_schema.columns"
        " where table_schema = database() and table_name = %s"
        " and character_maximum_length is not null",
        (table,),
    )
    return {name.lower(): int(length) for name, length in cur.fetchall()}


# -- records -----------------------------------------------------------------------------

Record = tuple[int, list[str] | None, str | None, list[str]]


def _split_line(text: str) -> tuple[list[str] | None, str | None]:
    try:
        return next(csv.reader([text], strict=True), []), None
    except csv.Error as exc:
        return None, f"malformed CSV: {exc}"


def records(lines: Iterable[str], width: int) -> Iterator[Record]:
    """The data records of a CSV text (header skipped, blank lines ignored), each as
    ``(first line number, fields, error, physical lines)``: fields None and an error when
    the record cannot be split (broken quoting). The list of lines is only valid until
    the next record.

    A quoted field may span lines. But a record spanning lines that breaks the quoting or
    has not ``width`` fields is taken for what it almost always is, an unbalanced quote
    that swallowed the lines after it: each of its lines is then a record of its own, as
    the pipeline reads landed files, so a broken quote costs only its own line.
    """
    held: list[str] = []

    def tape() -> Iterator[str]:
        for text in lines:
            held.append(text)
            yield text

    # strict: a quote that does not close a field is an error, not silently dropped.
    reader = csv.reader(tape(), strict=True)
    try:
        next(reader)  # the header, checked already
    except (StopIteration, csv.Error):
        return
    line = len(held) + 1
    held.clear()
    while True:
        try:
            fields, error = next(reader), None
        except StopIteration:
            return
        except csv.Error as exc:
            fields, error = None, f"malformed CSV: {exc}"
        if len(held) > 1 and (fields is None or len(fields) != width):
            for offset, text in enumerate(list(held)):
                one, fault = _split_line(text)
                if one or fault:
                    yield line + offset, one, fault, [text]
        elif fields or error:  # a blank line is no record
            yield line, fields, error, held
        line += len(held)
        held.clear()


# -- rejects -----------------------------------------------------------------------------

# raw_data.rejects column sizes (Redshift counts bytes)
_RULE_BYTES = 1024
_REASON_BYTES = 4096
_KEY_BYTES = 1024
_RAW_ROW_BYTES = 65535
_BATCH_ID_CHARS = 64
_REJECTS_CHUNK_ROWS = 5000


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


def raw_row_json(raw: dict[str, object], max_bytes: int = _RAW_ROW_BYTES) -> str:
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
    if len(batch_id) > _BATCH_ID_CHARS:
        raise ValueError(f"reject batch id longer than {_BATCH_ID_CHARS}: {batch_id}")
    return batch_id


# The guard of the pipeline's loads (warehouse/loading.py REJECTS_INSERT): a row already
# recorded, same table and same row hash, is not recorded again. Taken in two statements:
# in one, raw_data.rejects is read while it is written, and when the planner takes it for
# empty (a new warehouse) it rescans the growing table for every staged row: minutes for
# 100,000 rows instead of a second.
_DROP_RECORDED = (
    "delete from stage_rejects using raw_data.rejects"
    " where rejects.source_table = stage_rejects.source_table"
    " and rejects.row_hash = stage_rejects.row_hash"
)


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
        from rental_analytics.transforms.staging import REJECT_COLUMNS

        wh = self._warehouse()
        columns = ", ".join(REJECT_COLUMNS)
        staged, self.staged = self.staged, 0
        wh.execute("analyze stage_rejects")  # its size, for the join with the table
        with wh.transaction():
            wh.execute(_DROP_RECORDED)
            recorded = wh.execute(
                f"insert into raw_data.rejects ({columns}) select {columns} from stage_rejects"  # noqa: S608
            )
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
        from rental_analytics.transforms.staging import REJECT_COLUMNS

        # copy_rows: the local warehouse's bulk insert (the importer only runs locally).
        self.staged += self._warehouse().copy_rows("stage_rejects", REJECT_COLUMNS, self._chunk)
        self._chunk.clear()

    def _warehouse(self):
        if self._wh is None:
            from rental_analytics.warehouse import connect

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
        rule = _column_text(rule, _RULE_BYTES)
        row_hash = hashlib.md5(f"{raw_row}\x1f{rule}".encode()).hexdigest()  # as staging does
        self._table.add(
            (
                self._source_table,
                None if key is None else _column_text(key, _KEY_BYTES),
                rule,
                _column_text(reason, _REASON_BYTES),
                self.batch_id,
                raw_row,
                row_hash,
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


# -- parse and merge ---------------------------------------------------------------------


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
