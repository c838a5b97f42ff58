"""Which table a lab CSV feeds, by its name, and its header checked against the table's spec."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

from rental_analytics.local.importer.errors import SourceImportError
from rental_analytics.sources import headers
from rental_analytics.sources.headers import HeaderMatch
from rental_analytics.sources.tables import VEHICLE_RENTALS_TABLES, TableSpec

# Import order: the tables have no foreign keys (references may dangle, as in the lab
# data), so any order works; parents first keeps a partial failure easy to read.
TABLE_ORDER = ("apartments", "apartment_attributes", "user_viewing", "bookings")
VEHICLE_FILE_PREFIXES = ("vehicles", "locations", "location", "users", "rental_transactions")
NOT_APARTMENTS_DOMAIN = "not an apartments-domain file"
UNKNOWN_FILE = "unrecognised file name"


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
