"""The CSV landing zone of the vehicle-rentals domain, and its file bookmarks.

Files land under one prefix per table (``vehicles/``, ``locations/``, ``users/``,
``rental_transactions/``): an S3 prefix in AWS, a folder under ``$RENTALS_HOME/landing``
locally. Any ``*.csv`` below a table's prefix belongs to that table, whatever its name.

Bookmarks follow Glue's S3 bookmarks, made exact: the state keeps every processed file's
key and content fingerprint, so a file is processed once, and a file rewritten with new
content (a new fingerprint under the same key) is processed again; its rows then replace
the earlier versions by key in the warehouse. Files are processed in landing order (last
modification, then key), which is also the order that breaks ties between versions of a
row.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from rental_analytics.columns import CORRUPT_RECORD, SOURCE_FILE, SOURCE_FILE_SEQ, SOURCE_ROW_SEQ
from rental_analytics.sources.headers import HeaderError, HeaderMatch, match_header
from rental_analytics.sources.tables import TABLES_BY_DOMAIN, TableSpec
from rental_analytics.storage import LandedFile, Landing, LocalLanding
from rental_analytics.storage.local import sha256_of

_IMPORT_BATCH = "import-{:04d}"


class LandingError(RuntimeError):
    """A landed file cannot be read as its table: the message names table, file and why."""


# -- headers --------------------------------------------------------------------------------
def parse_header(head: bytes, spec: TableSpec, key: str) -> HeaderMatch | None:
    """The header of a landed file matched to its spec; None for an empty (0-byte) file."""
    if not head.strip():
        return None
    first = head.split(b"\n", 1)[0].rstrip(b"\r")
    try:
        text = first.decode("utf-8-sig")
        header = next(csv.reader(io.StringIO(text)))
    except (UnicodeDecodeError, csv.Error, StopIteration) as exc:
        raise LandingError(f"{spec.name}: {key}: unreadable header line: {exc}") from None
    try:
        return match_header(header, spec, key)
    except HeaderError as exc:
        raise LandingError(f"{spec.name}: {exc}") from None


# -- which files a run reads ---------------------------------------------------------------
def pending_files(
    files: Sequence[LandedFile], bookmark: dict[str, Any] | None, full_refresh: bool
) -> list[LandedFile]:
    """Files not yet processed with their current content (all of them on a full refresh)."""
    if full_refresh:
        return list(files)
    seen = (bookmark or {}).get("files", {})
    return [f for f in files if seen.get(f.key) != f.fingerprint]


def files_bookmark(
    previous: dict[str, Any] | None,
    processed: Iterable[LandedFile],
    full_refresh: bool,
    present: Iterable[LandedFile] = (),
) -> dict[str, Any]:
    """The bookmark after committing ``processed``: every file key with the fingerprint
    processed. A full refresh forgets files that are no longer in the landing zone."""
    seen = {} if full_refresh else dict((previous or {}).get("files", {}))
    if full_refresh:
        seen.update({f.key: f.fingerprint for f in present})
    seen.update({f.key: f.fingerprint for f in processed})
    return {"kind": "files", "files": dict(sorted(seen.items()))}


# -- reading ---------------------------------------------------------------------------------
def raw_landed_schema(spec: TableSpec) -> T.StructType:
    """Raw Parquet of a landed table: the file's text as it was, plus where it came from."""
    return T.StructType(
        [T.StructField(c, T.StringType(), True) for c in spec.column_names]
        + [
            T.StructField(SOURCE_FILE, T.StringType(), True),
            T.StructField(SOURCE_FILE_SEQ, T.IntegerType(), True),
            T.StructField(SOURCE_ROW_SEQ, T.LongType(), True),
            T.StructField(CORRUPT_RECORD, T.StringType(), True),
        ]
    )


class LandingReader:
    """Reads landed CSV files with Spark, as text, one record per line.

    Each file is read with the schema its own header declares, so files of one table may
    order their columns differently. ``multiLine`` stays off: an unbalanced quote then
    spoils one line (rejected whole, with the line) instead of swallowing the rest of the
    file into one field.
    """

    def __init__(self, spark: SparkSession, landing: Landing):
        self.spark = spark
        self.landing = landing

    def list_files(self, spec: TableSpec) -> list[LandedFile]:
        return self.landing.list_files(str(spec.landing_prefix))

    def headers(self, spec: TableSpec, files: Sequence[LandedFile]) -> dict[str, HeaderMatch]:
        """Every file's header checked before any is read: one bad file stops the table."""
        matches = {}
        for f in files:
            match = parse_header(self.landing.read_head(f), spec, f.key)
            if match is not None:
                matches[f.key] = match
        return matches

    def read(
        self, spec: TableSpec, files: Sequence[LandedFile], matches: dict[str, HeaderMatch]
    ) -> DataFrame:
        frames = []
        for seq, f in enumerate(files, start=1):
            match = matches.get(f.key)
            if match is None:  # an empty file holds no rows
                continue
            fields = [f"_c{i}" for i in range(match.width)]
            for column, position in zip(spec.column_names, match.positions, strict=True):
                fields[position] = column
            schema = T.StructType(
                [T.StructField(n, T.StringType(), True) for n in fields]
                + [T.StructField(CORRUPT_RECORD, T.StringType(), True)]
            )
            df = (
                self.spark.read.schema(schema)
                .option("header", True)
                .option("enforceSchema", True)  # the header line is skipped, names are ours
                .option("mode", "PERMISSIVE")
                .option("columnNameOfCorruptRecord", CORRUPT_RECORD)
                .option("multiLine", False)
                .option("encoding", "UTF-8")
                .csv(f.uri)
            )
            frames.append(
                df.select(
                    *spec.column_names,
                    F.lit(f.key).alias(SOURCE_FILE),
                    F.lit(seq).cast("int").alias(SOURCE_FILE_SEQ),
                    # One file per read: its splits are numbered in file order, so a later
                    # line of the file gets a greater id (a later version of its key wins).
                    F.monotonically_increasing_id().alias(SOURCE_ROW_SEQ),
                    CORRUPT_RECORD,
                )
            )
        if not frames:
            return self.spark.createDataFrame([], raw_landed_schema(spec))
        out = frames[0]
        for frame in frames[1:]:
            out = out.unionByName(frame)
        return out


def land_files(
    landing: LocalLanding, files: Sequence[tuple[TableSpec, Path]]
) -> list[tuple[Path, LandedFile | None]]:
    """Land files as one new import batch: ``<prefix>/import-NNNN/<file name>``.

    Headers are checked first, so a file that cannot feed its table lands nothing. A file
    whose content is already in its table's prefix is not landed again (None).
    """
    for spec, path in files:
        with open(path, "rb") as fh:
            match = parse_header(fh.read(65_536), spec, path.name)
        if match is None:
            raise LandingError(f"{spec.name}: {path.name}: empty file, expected a header line")
    names = [f"{spec.landing_prefix}/{path.name}" for spec, path in files]
    clashes = sorted({n for n in names if names.count(n) > 1})
    if clashes:
        raise LandingError(f"two files would land under one name: {', '.join(clashes)}")
    batch = next_import_batch(landing)
    outcome: list[tuple[Path, LandedFile | None]] = []
    existing: dict[str, set[str]] = {}  # prefix -> fingerprints landed, listed once
    for spec, path in files:
        prefix = str(spec.landing_prefix)
        if prefix not in existing:
            existing[prefix] = {f.fingerprint for f in landing.list_files(prefix)}
        if sha256_of(path) in existing[prefix]:
            outcome.append((path, None))
            continue
        landed = landing.put_file(path, f"{prefix}/{batch}/{path.name}")
        existing[prefix].add(landed.fingerprint)
        outcome.append((path, landed))
    return outcome


def next_import_batch(landing: LocalLanding) -> str:
    """The name of the next import folder: one more than the highest in any table's prefix."""
    highest = 0
    for spec in TABLES_BY_DOMAIN["vehicle_rentals"]:
        for name in landing.subfolders(str(spec.landing_prefix)):
            if name.startswith("import-") and name[7:].isdigit():
                highest = max(highest, int(name[7:]))
    return _IMPORT_BATCH.format(highest + 1)
