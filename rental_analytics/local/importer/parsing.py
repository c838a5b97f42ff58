"""Pure parsing of lab-format fields: dates, date-times, booleans, integers, decimals."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

_INT32 = (-(2**31), 2**31 - 1)
_MIN_YEAR = 1000  # MariaDB DATE/DATETIME range starts at 1000-01-01

_DMY = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})", re.ASCII)
_ISO = re.compile(r"(\d{4})-(\d{2})-(\d{2})", re.ASCII)
_DMY_TIME = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})[ T](\d{1,2}):(\d{2})(?::(\d{2}))?", re.ASCII)
_ISO_TIME = re.compile(r"(\d{4})-(\d{2})-(\d{2})[ T](\d{1,2}):(\d{2})(?::(\d{2}))?", re.ASCII)
_INT = re.compile(r"[+-]?\d+(?:\.0*)?", re.ASCII)
_ANY_DECIMAL = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)
_BOOLS = {"true": True, "false": False, "1": True, "0": False}


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
