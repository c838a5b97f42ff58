"""Import lab-format CSVs of the apartments domain into the local source database.

The lab exports (``shared/datasets/``) are CSV with a header, dates ``dd/MM/yyyy`` and
booleans ``True``/``False``. Each file is checked against its table's spec, parsed row by
row, and its good rows are upserted by primary key: a TSV of the normalised rows is bulk
loaded (``LOAD DATA LOCAL INFILE``) into a temporary table, then merged with
``INSERT ... SELECT ... ON DUPLICATE KEY UPDATE``; one transaction per file.

A row that cannot be parsed is not imported: it goes with its line number and reason to
``$RENTALS_HOME/rejects/source_import/<file stem>.rejects.csv`` and is counted, so every
row read is either upserted, superseded by a later line with the same key, or rejected.

Vehicle-domain files (vehicles, locations, users, rental_transactions) are not imported
into the database: :func:`import_directory` lands them in the landing zone as a new batch,
where the next run's extraction reads them (``import_apartments`` lists them as skipped).
"""

from __future__ import annotations

import csv
import io
import re
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path

from rental_analytics.config import Settings
from rental_analytics.local import source_db
from rental_analytics.sources import headers
from rental_analytics.sources.headers import HeaderMatch
from rental_analytics.sources.landing import LandingError, LocalLanding, land_files
from rental_analytics.sources.tables import VEHICLE_RENTALS_TABLES, TableSpec, get_table

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
    """One row cannot be imported; the message is the reason written to the rejects file."""


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
    about 2,000 dates across 500,000 rows. Failures are rare and not remembered."""
    known: dict[str, str] = {}

    def lookup(raw: str) -> str:
        token = known.get(raw)
        if token is None:
            token = convert(raw)
            if len(known) < 100_000:
                known[raw] = token
        return token

    return lookup


def column_converter(
    name: str, logical_type: str, nullable: bool = True, max_length: int | None = None
) -> Callable[[str], str]:
    """A function from a raw CSV field to its TSV token for ``LOAD DATA`` (``\\N`` for
    NULL), raising :class:`RowRejected` with a reason naming the column.

    Each type has a fast path for the common well-formed value; anything else goes
    through the ``parse_*`` functions above, which decide and explain.
    """

    def null_or_reject() -> str:
        if not nullable:
            raise RowRejected(f"{name}: NULL in a required (primary key) column")
        return NULL_TOKEN

    def guarded(parse: Callable[[str], str]) -> Callable[[str], str]:
        def convert(raw: str) -> str:
            if not raw or raw.isspace():
                return null_or_reject()
            try:
                return parse(raw)
            except ValueError as exc:
                raise RowRejected(f"{name}: {exc}") from None

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
        by_bytes = logical_type == "text"
        # Characters to check before counting bytes: a character is at most 4 bytes.
        quick_limit = None if max_length is None else max_length // 4 if by_bytes else max_length

        def string_token(raw: str) -> str:
            if not raw:  # empty field = NULL; whitespace is data (' confirmed ' is kept)
                return null_or_reject()
            if quick_limit is not None and len(raw) > quick_limit:
                size = len(raw.encode()) if by_bytes else len(raw)
                if size > max_length:
                    unit = "bytes" if by_bytes else "characters"
                    raise RowRejected(f"{name}: value too long ({size} > {max_length} {unit})")
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
        if len(fields) != self.header.width:
            raise RowRejected(
                f"wrong number of fields: expected {self.header.width}, got {len(fields)}"
            )
        tokens = [convert(fields[position]) for position, convert in self._plan]
        if len(self._key_indexes) == 1:
            key: object = tokens[self._key_indexes[0]]
        else:
            key = tuple(tokens[i] for i in self._key_indexes)
        return key, "\t".join(tokens)


# -- summary -----------------------------------------------------------------------------


@dataclass(frozen=True)
class FileImport:
    """What happened to one file of the directory."""

    path: Path
    table: str | None  # None: skipped
    rows_read: int = 0
    rows_upserted: int = 0  # distinct keys written: inserted + updated + unchanged
    rows_inserted: int = 0
    rows_updated: int = 0
    rows_rejected: int = 0
    duplicate_keys: int = 0  # rows superseded by a later line with the same primary key
    reject_file: Path | None = None
    extra_columns: tuple[str, ...] = ()
    skipped_reason: str | None = None
    seconds: float = 0.0
    landed_as: str | None = None  # vehicle domain: the landing key the file was copied to
    already_landed: bool = False  # vehicle domain: the same content is already landed

    @property
    def rows_unchanged(self) -> int:
        return self.rows_upserted - self.rows_inserted - self.rows_updated

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
            f"{self.path.name} -> {self.table}: {self.rows_read} read, "
            f"{self.rows_upserted} upserted ({self.rows_inserted} new, {self.rows_updated} "
            f"changed, {self.rows_unchanged} unchanged), {self.rows_rejected} rejected"
        ]
        if self.duplicate_keys:
            parts.append(
                f"{self.duplicate_keys} rows repeated an earlier primary key: the later line won"
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
    """Import the given apartments-domain CSVs (table chosen by file name), in table order."""
    paths = [Path(p) for p in paths]
    tables = {}
    for p in paths:
        table = classify_file(p.name)
        if table is None:
            raise SourceImportError(f"{p}: not an apartments-domain lab file name")
        tables[p] = table
    ordered = sorted(paths, key=lambda p: (TABLE_ORDER.index(tables[p]), p.name))
    headers = {p: _read_header(p, get_table(tables[p])) for p in ordered}
    source_db.ensure_schema(settings)
    conn = source_db.connect(settings)
    try:
        with conn.cursor() as cur:
            lengths = {t: _max_lengths(cur, t) for t in sorted(set(tables.values()))}
        conn.rollback()
        results = []
        # Parse the next file while the database merges the previous one: mariadbd works
        # in its own process, so on two cores parsing and loading overlap. One worker
        # thread owns the connection from here on and merges the files in order.
        with ThreadPoolExecutor(max_workers=1) as database:
            merging = None
            for p in ordered:
                spec = get_table(tables[p])
                parsed = _parse(settings, p, spec, headers[p], lengths[spec.name])
                if merging is not None:
                    results.append(merging.result())
                merging = database.submit(_merge, conn, parsed)
            if merging is not None:
                results.append(merging.result())
    finally:
        conn.close()
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


class _RejectsFile:
    """The rejects CSV of one input file, created at its first reject."""

    def __init__(self, path: Path):
        self.path = path
        self.count = 0
        self._fh = None
        self._writer = None

    def write(self, line_number: int, reason: str, fields: Sequence[str]) -> None:
        if self._writer is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fh = open(self.path, "w", newline="", encoding="utf-8")  # noqa: SIM115
            self._writer = csv.writer(self._fh, lineterminator="\n")
            self._writer.writerow(["line_number", "reason", "record"])
        self._writer.writerow([line_number, reason, _record_text(fields)])
        self.count += 1

    def __enter__(self) -> _RejectsFile:
        return self

    def __exit__(self, *exc_info) -> None:
        if self._fh is not None:
            self._fh.close()
        elif exc_info[0] is None:
            self.path.unlink(missing_ok=True)  # a report of an earlier import would mislead


def _parse_file(
    path: Path, parser: RowParser, rejects: _RejectsFile
) -> tuple[dict[object, str], int]:
    """Parse every data row: good rows by primary key (a later line with the same key
    wins), bad rows to ``rejects``. Returns (good rows, rows read)."""
    rows: dict[object, str] = {}
    rows_read = 0
    csv.field_size_limit(_MAX_CSV_FIELD)
    try:
        with _open_csv(path) as fh:
            reader = csv.reader(fh)
            next(reader)  # the header, checked already
            line_end = reader.line_num
            while True:
                line = line_end + 1  # a quoted field may span lines: report the first
                try:
                    fields = next(reader)
                except StopIteration:
                    break
                except csv.Error as exc:
                    fields, reason = [], f"malformed CSV: {exc}"
                else:
                    reason = None
                line_end = reader.line_num
                if not fields and reason is None:
                    continue  # a blank line is no row
                rows_read += 1
                if reason is None:
                    try:
                        key, tsv = parser.parse(fields)
                    except RowRejected as exc:
                        reason = str(exc)
                    else:
                        rows[key] = tsv
                        continue
                rejects.write(line, reason, fields)
    except UnicodeDecodeError as exc:
        raise SourceImportError(f"{path.name}: not UTF-8 text: {exc}") from None
    return rows, rows_read


@dataclass(frozen=True)
class _ParsedFile:
    path: Path
    spec: TableSpec
    header: HeaderMatch
    rows: dict[object, str]  # primary key -> TSV line
    rows_read: int
    rejects: _RejectsFile
    started: float


def _parse(
    settings: Settings, path: Path, spec: TableSpec, header: HeaderMatch, lengths: dict[str, int]
) -> _ParsedFile:
    started = time.monotonic()
    parser = RowParser(spec, header, lengths)
    with _RejectsFile(rejects_dir(settings) / f"{path.stem}.rejects.csv") as rejects:
        rows, rows_read = _parse_file(path, parser, rejects)
    return _ParsedFile(path, spec, header, rows, rows_read, rejects, started)


def _merge(conn, parsed: _ParsedFile) -> FileImport:
    inserted, changed = _upsert(conn, parsed.spec, parsed.rows.values())
    rejected = parsed.rejects.count
    return FileImport(
        path=parsed.path,
        table=parsed.spec.name,
        rows_read=parsed.rows_read,
        rows_upserted=len(parsed.rows),
        rows_inserted=inserted,
        rows_updated=changed,
        rows_rejected=rejected,
        duplicate_keys=parsed.rows_read - rejected - len(parsed.rows),
        reject_file=parsed.rejects.path if rejected else None,
        extra_columns=parsed.header.extra_columns,
        seconds=round(time.monotonic() - parsed.started, 3),
    )


def _record_text(fields: Sequence[str]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="").writerow(fields)
    return buf.getvalue()


def _upsert(conn, spec: TableSpec, lines: Iterable[str]) -> tuple[int, int]:
    """Bulk load the TSV lines into a temporary table and merge them into the table by
    primary key, in one transaction. Returns (rows inserted, rows changed)."""
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
            conn.commit()
        except BaseException:
            conn.rollback()
            raise
    inserted = loaded - existing
    # ON DUPLICATE KEY UPDATE reports 1 per inserted row, 2 per changed row, 0 unchanged.
    return inserted, (affected - inserted) // 2
