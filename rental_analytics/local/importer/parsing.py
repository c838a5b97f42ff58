"""Pure parsing of lab-format fields: dates, date-times, booleans, integers, decimals."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from rental_analytics.sources.formats import (
    EXPORT_BOOLEANS,
    EXPORT_DATE,
    EXPORT_DATETIME,
    date_fields,
)

_INT32 = (-(2**31), 2**31 - 1)
_MIN_YEAR = 1000  # MariaDB DATE/DATETIME range starts at 1000-01-01

_INT = re.compile(r"[+-]?\d+(?:\.0*)?", re.ASCII)
_ANY_DECIMAL = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)


def parse_date(text: str) -> date:
    """A DATE column: ``dd/MM/yyyy`` (the lab format) or ``yyyy-MM-dd``
    (``sources/formats.py``: the layouts the Spark typing of landed files reads too)."""
    fields = date_fields(text.strip(), EXPORT_DATE)
    if fields is None:
        raise ValueError(f"not a date (expected {' or '.join(EXPORT_DATE)}): {text!r}")
    return _checked_date(text, *fields[:3])


def parse_datetime(text: str) -> datetime:
    """A DATETIME column: a date as in :func:`parse_date` (midnight), or with a time,
    ``dd/MM/yyyy HH:mm[:ss]`` / ``yyyy-MM-dd[ T]HH:mm[:ss]``."""
    fields = date_fields(text.strip(), EXPORT_DATETIME)
    if fields is None:
        raise ValueError(
            f"not a date-time (expected {' or '.join(EXPORT_DATETIME)}, seconds optional): {text!r}"
        )
    year, month, day, hour, minute, second = fields
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
    """``True``/``False`` (the lab format), any case, or ``1``/``0``
    (``sources/formats.EXPORT_BOOLEANS``)."""
    value = EXPORT_BOOLEANS.get(text.strip().lower())
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
