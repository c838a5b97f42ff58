"""The one table of how lab values are written as text: date layouts and boolean words.

Both parsers of lab text read it: the Spark typing of landed CSV files
(``transforms/landed.py``, in every pipeline run) and the local importer of the lab exports
(``local/importer/parsing.py``). Where the two sources are written differently (the words
for true and false) the table says so, side by side, with the reason. Pure data and pure
Python: no Spark here.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Layout:
    """A date layout: the shape a value must have (anchored), and where its year is."""

    pattern: str
    year_first: bool


_TIME = r"[ T][0-9]{1,2}:[0-5][0-9](:[0-5][0-9])?"  # no leap second: :60 would roll over
LAYOUTS: dict[str, Layout] = {
    "yyyy-MM-dd HH:mm:ss": Layout(rf"^[0-9]{{4}}-[0-9]{{1,2}}-[0-9]{{1,2}}{_TIME}$", True),
    "yyyy-MM-dd": Layout(r"^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}$", True),
    "dd-MM-yyyy HH:mm:ss": Layout(rf"^[0-9]{{1,2}}-[0-9]{{1,2}}-[0-9]{{4}}{_TIME}$", False),
    "dd-MM-yyyy": Layout(r"^[0-9]{1,2}-[0-9]{1,2}-[0-9]{4}$", False),
    "dd/MM/yyyy": Layout(r"^[0-9]{1,2}/[0-9]{1,2}/[0-9]{4}$", False),
}
# Every layout's fields are split at these; seconds absent count as 0.
SEPARATORS = r"[-/ T:]"

# The lab's landed CSV files (vehicle rentals): timestamps yyyy-MM-dd HH:mm:ss, except
# vehicles.last_update_timestamp and expiration_date (dd-MM-yyyy[ HH:mm:ss]). Both orders are
# accepted everywhere: a four-digit year first or last cannot be confused, and a file
# exported by another tool still parses.
DAY_FIRST = ("dd-MM-yyyy HH:mm:ss", "dd-MM-yyyy")
YEAR_FIRST = ("yyyy-MM-dd HH:mm:ss", "yyyy-MM-dd")
ANY_DATE = (*YEAR_FIRST, *DAY_FIRST)

# The lab's database exports (apartments), imported into the source database: dates
# dd/MM/yyyy, or ISO with two-digit month and day; times H:mm[:ss] (a minute of 61 is a
# value, refused as an invalid time of day, not as a shape). Stricter than the landed
# layouts above, as the importer has always been.
_EXPORT_TIME = r"[ T][0-9]{1,2}:[0-9]{2}(:[0-9]{2})?"
EXPORT_LAYOUTS: dict[str, Layout] = {
    "dd/MM/yyyy HH:mm:ss": Layout(rf"^[0-9]{{1,2}}/[0-9]{{1,2}}/[0-9]{{4}}{_EXPORT_TIME}$", False),
    "dd/MM/yyyy": Layout(r"^[0-9]{1,2}/[0-9]{1,2}/[0-9]{4}$", False),
    "yyyy-MM-dd HH:mm:ss": Layout(rf"^[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}{_EXPORT_TIME}$", True),
    "yyyy-MM-dd": Layout(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$", True),
}
EXPORT_DATE = ("dd/MM/yyyy", "yyyy-MM-dd")
EXPORT_DATETIME = ("dd/MM/yyyy HH:mm:ss", "yyyy-MM-dd HH:mm:ss", *EXPORT_DATE)

# Boolean words, compared after trimming and lower-casing. The lab's database exports write
# True/False (1/0 from other tools): anything else there is a damaged value, rejected by the
# importer. Landed files come from other producers, so their typing also reads t/f, yes/no.
EXPORT_BOOLEANS: dict[str, bool] = {"true": True, "false": False, "1": True, "0": False}
LANDED_BOOLEANS: dict[str, bool] = {
    **EXPORT_BOOLEANS,
    "t": True,
    "yes": True,
    "y": True,
    "f": False,
    "no": False,
    "n": False,
}
BOOLEAN_WORDS = "0/1, true/false"  # how an error names them

_SPLIT = re.compile(SEPARATORS)


@functools.cache
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.ASCII)


def date_fields(
    text: str, formats: tuple[str, ...], layouts: dict[str, Layout] = EXPORT_LAYOUTS
) -> tuple[int, ...] | None:
    """(year, month, day, hour, minute, second) of ``text`` in the first of ``formats``
    (names in ``layouts``) whose shape it has, else None. The caller trims; the calendar is
    not checked here: a caller builds its own date and says why one is impossible."""
    for name in formats:
        layout = layouts[name]
        if _compiled(layout.pattern).fullmatch(text):
            parts = [int(p) for p in _SPLIT.split(text)] + [0, 0, 0]
            if layout.year_first:
                year, month, day = parts[0], parts[1], parts[2]
            else:
                day, month, year = parts[0], parts[1], parts[2]
            return year, month, day, parts[3], parts[4], parts[5]
    return None
