"""CSV headers matched to a table spec: by name, in any order, extra columns reported.

Shared by the source importer (apartments-domain files into the source database) and the
landing extraction (vehicle-domain files), so a header means the same thing in both.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rental_analytics.sources.tables import TableSpec


class HeaderError(ValueError):
    """A CSV header cannot feed its table: a missing or repeated column, or no header."""


def normalise(name: str) -> str:
    """Header names compare trimmed and case-insensitive (a BOM is not part of a name)."""
    return name.replace("\ufeff", "").strip().lower()


@dataclass(frozen=True)
class HeaderMatch:
    """Where each spec column sits in a file's header, and the header's extra columns."""

    positions: tuple[int, ...]  # per spec column, its index in the file's rows
    width: int  # fields per row
    extra_columns: tuple[str, ...]


def match_header(header: Sequence[str], spec: TableSpec, file_name: str) -> HeaderMatch:
    """Match a header to a spec: names trimmed and case-insensitive, any order, extra
    columns ignored; a missing or repeated spec column is a :class:`HeaderError`."""
    names = [normalise(h) for h in header]
    positions = []
    missing = []
    for column in spec.column_names:
        found = [i for i, n in enumerate(names) if n == column]
        if len(found) > 1:
            raise HeaderError(f"{file_name}: column {column!r} appears {len(found)} times")
        if not found:
            missing.append(column)
        else:
            positions.append(found[0])
    if missing:
        raise HeaderError(
            f"{file_name}: missing column{'s' if len(missing) > 1 else ''} "
            f"{', '.join(repr(c) for c in missing)} required by table {spec.name} "
            f"(header: {', '.join(h.strip() for h in header)})"
        )
    extra = tuple(h.strip() for h in header if normalise(h) not in spec.column_names)
    return HeaderMatch(positions=tuple(positions), width=len(header), extra_columns=extra)
