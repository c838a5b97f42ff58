"""The vehicle-rental KPIs of SPEC section 6, computed independently in plain Python from the
landed CSV files (not from the warehouse), to check the presentation views row by row.

Written from the SPEC's words, not from the pipeline's code: nothing here imports
``rental_analytics``. Only ``csv``, ``decimal`` and ``datetime``.

Landing semantics:

- ``batches`` is an ordered list of landing-batch directories; each may hold any of
  vehicles.csv, locations.csv / location.csv (both read if both exist, location.csv first),
  users.csv and rental_transactions.csv.
- Columns are matched by header name (trimmed, case-insensitive; any order, extra columns
  ignored; a column missing from the header is NULL in every row).
- A row is dropped (the pipeline rejects it) when it has another number of fields than the
  header, an empty primary key, or a non-empty value that does not parse for its column's
  type. An empty field is NULL. Typed values are trimmed before parsing; text is kept as
  given. Types: ints ``[+-]?\\d+`` optionally followed by ``.0`` (32-bit range), decimals
  and doubles plain numbers (``-12``, ``3.5``, ``.5``; no exponent), booleans
  ``0/1/true/false`` in any case, dates and timestamps ``yyyy-MM-dd[ HH:mm:ss]`` or
  ``dd-MM-yyyy[ HH:mm:ss]`` (a real calendar date; a date column keeps the date part).
  Blank lines are not rows.
- Across batches and within a file a later row replaces an earlier one with the same key,
  except vehicles: the version with the greatest ``last_update_timestamp`` wins, a version
  with a timestamp beats one without, and on equal (or both missing) timestamps the later
  one in landing order wins.

Fact (``curated.fact_rentals``): transactions with start and end not NULL, end > start,
``total_amount`` not NULL and >= 0; duration = exact (end - start) in seconds, rental_date =
date(start). Amounts are used exactly as given (no rounding before the KPIs).

KPIs: money and hours are Decimals quantized to 0.01 ROUND_HALF_UP from exact values
(sums, then divided, then rounded), counts are ints, rows are tuples in the view's column
order, sorted by all columns with None first. Everything is computed with 50 significant
digits in a local decimal context.
"""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, localcontext
from pathlib import Path

CENT = Decimal("0.01")
PRECISION = 50
UNKNOWN = "unknown"
TOP_DAYS = 10

# Table -> file names in a batch, read in this order.
FILES = {
    "vehicles": ("vehicles.csv",),
    "locations": ("location.csv", "locations.csv"),
    "users": ("users.csv",),
    "rental_transactions": ("rental_transactions.csv",),
}
PRIMARY_KEYS = {
    "vehicles": "vehicle_id",
    "locations": "location_id",
    "users": "user_id",
    "rental_transactions": "rental_id",
}
# Column -> type, in the lab files' column order ("str" is text, kept as given).
COLUMN_TYPES = {
    "vehicles": {
        "active": "bool",
        "vehicle_license_number": "str",
        "registration_name": "str",
        "license_type": "str",
        "expiration_date": "date",
        "permit_license_number": "str",
        "certification_date": "date",
        "vehicle_year": "int",
        "base_telephone_number": "str",
        "base_address": "str",
        "vehicle_id": "str",
        "last_update_timestamp": "timestamp",
        "brand": "str",
        "vehicle_type": "str",
    },
    "locations": {
        "location_id": "int",
        "location_name": "str",
        "address": "str",
        "city": "str",
        "state": "str",
        "zip_code": "str",
        "latitude": "double",
        "longitude": "double",
    },
    "users": {
        "user_id": "str",
        "first_name": "str",
        "last_name": "str",
        "email": "str",
        "phone_number": "str",
        "driver_license_number": "str",
        "driver_license_expiry": "date",
        "creation_date": "date",
        "is_active": "bool",
    },
    "rental_transactions": {
        "rental_id": "str",
        "user_id": "str",
        "vehicle_id": "str",
        "rental_start_time": "timestamp",
        "rental_end_time": "timestamp",
        "pickup_location": "int",
        "dropoff_location": "int",
        "total_amount": "decimal",
    },
}

VIEW_COLUMNS = {
    "vw_location_performance": (
        "location_id", "location_name", "city", "state", "transactions", "revenue",
        "avg_amount", "max_amount", "min_amount", "unique_vehicles", "avg_duration_hours",
    ),
    "vw_vehicle_type_performance": (
        "vehicle_type", "transactions", "revenue", "avg_amount", "total_duration_hours",
        "avg_duration_hours",
    ),
    "vw_daily_transaction_metrics": (
        "rental_date", "transactions", "revenue", "avg_amount", "max_amount", "min_amount",
        "unique_users",
    ),
    "vw_user_engagement_metrics": (
        "user_id", "transactions", "total_spent", "avg_spent", "total_duration_hours",
        "avg_duration_hours", "max_amount", "min_amount",
    ),
    "vw_top_revenue_days": ("rental_date", "revenue", "transactions", "revenue_rank"),
    "vw_rental_business_summary": (
        "transactions", "revenue", "unique_users", "unique_vehicles", "avg_amount",
        "avg_duration_hours",
    ),
}  # fmt: skip

_INT = re.compile(r"[+-]?(\d+)(?:\.0)?", re.ASCII)
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)", re.ASCII)
_BOOLS = {"0": False, "1": True, "false": False, "true": True}
_YEAR_FIRST = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?: (\d{2}):(\d{2}):(\d{2}))?", re.ASCII)
_DAY_FIRST = re.compile(r"(\d{2})-(\d{2})-(\d{4})(?: (\d{2}):(\d{2}):(\d{2}))?", re.ASCII)
_INT32 = (-(2**31), 2**31 - 1)


class Unparseable(ValueError):
    pass


# -- parsing -------------------------------------------------------------------------------


def _timestamp(text: str) -> datetime:
    m = _YEAR_FIRST.fullmatch(text)
    if m:
        y, mo, d, hh, mi, ss = m.groups()
    else:
        m = _DAY_FIRST.fullmatch(text)
        if not m:
            raise Unparseable(f"not a date/timestamp: {text!r}")
        d, mo, y, hh, mi, ss = m.groups()
    try:
        return datetime(int(y), int(mo), int(d), int(hh or 0), int(mi or 0), int(ss or 0))
    except ValueError as exc:
        raise Unparseable(f"not a valid date/timestamp: {text!r}") from exc


def parse_value(text: str, kind: str):
    """One CSV field -> Python value (None for an empty field); Unparseable if invalid."""
    if kind == "str":
        return None if text == "" else text
    s = text.strip()
    if s == "":
        return None
    if kind == "int":
        if not _INT.fullmatch(s):
            raise Unparseable(f"not an integer: {text!r}")
        value = int(s.split(".")[0])
        if not _INT32[0] <= value <= _INT32[1]:
            raise Unparseable(f"integer out of range: {text!r}")
        return value
    if kind in ("decimal", "double"):
        if not _NUMBER.fullmatch(s):
            raise Unparseable(f"not a number: {text!r}")
        return Decimal(s)
    if kind == "bool":
        try:
            return _BOOLS[s.lower()]
        except KeyError:
            raise Unparseable(f"not a boolean: {text!r}") from None
    if kind == "timestamp":
        return _timestamp(s)
    if kind == "date":
        return _timestamp(s).date()
    raise ValueError(f"unknown column type {kind!r}")


@dataclass
class ReferenceData:
    """The latest valid version of every landed row, by table and key."""

    vehicles: dict[str, dict] = field(default_factory=dict)
    locations: dict[int, dict] = field(default_factory=dict)
    users: dict[str, dict] = field(default_factory=dict)
    transactions: dict[str, dict] = field(default_factory=dict)
    rows_read: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FILES, 0))
    rows_dropped: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FILES, 0))

    def table(self, name: str) -> dict:
        return {
            "vehicles": self.vehicles,
            "locations": self.locations,
            "users": self.users,
            "rental_transactions": self.transactions,
        }[name]

    def fact(self) -> list[dict]:
        """``curated.fact_rentals``: valid transactions, with duration and dimensions."""
        out = []
        for t in self.transactions.values():
            start, end, amount = t["rental_start_time"], t["rental_end_time"], t["total_amount"]
            if start is None or end is None or amount is None or not end > start or amount < 0:
                continue
            delta = end - start
            out.append({
                **t,
                "amount": amount,
                "seconds": delta.days * 86_400 + delta.seconds,
                "rental_date": start.date(),
                "vehicle_type": self.vehicle_type(t["vehicle_id"]),
            })  # fmt: skip
        return out

    def vehicle_type(self, vehicle_id) -> str:
        v = self.vehicles.get(vehicle_id) if vehicle_id is not None else None
        raw = v.get("vehicle_type") if v else None
        # SQL lower(trim(x)): trim removes spaces only. Blank after trimming counts as NULL.
        value = raw.strip(" ").lower() if raw is not None else ""
        return value or UNKNOWN

    def stats(self) -> FactStats:
        fact = self.fact()
        with localcontext() as ctx:
            ctx.prec = PRECISION
            revenue = sum((f["amount"] for f in fact), Decimal(0))
            return FactStats(
                valid_transactions=len(fact),
                total_revenue=revenue,
                total_revenue_rounded=_r2(revenue),
                distinct_users=len({f["user_id"] for f in fact if f["user_id"] is not None}),
                distinct_vehicles=len(
                    {f["vehicle_id"] for f in fact if f["vehicle_id"] is not None}
                ),
                total_duration_seconds=sum(f["seconds"] for f in fact),
                transactions_loaded=len(self.transactions),
            )


@dataclass(frozen=True)
class FactStats:
    valid_transactions: int  # rows of fact_rentals
    total_revenue: Decimal  # exact sum of their amounts
    total_revenue_rounded: Decimal  # to 0.01, half up
    distinct_users: int  # distinct non-NULL user ids in the fact
    distinct_vehicles: int  # distinct non-NULL vehicle ids in the fact
    total_duration_seconds: int
    transactions_loaded: int  # latest version of each valid transaction row, before fact rules


def _read_rows(path: Path) -> Iterable[tuple[list[str], list[str]]]:
    with open(path, newline="", encoding="utf-8-sig") as fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        if header is None:
            return
        names = [h.strip().lower() for h in header]
        for row in reader:
            if not row:  # a blank line is not a row
                continue
            yield names, row


def _load_file(data: ReferenceData, table: str, path: Path) -> None:
    types = COLUMN_TYPES[table]
    key_col = PRIMARY_KEYS[table]
    rows = data.table(table)
    for names, raw in _read_rows(path):
        data.rows_read[table] += 1
        if len(raw) != len(names):
            data.rows_dropped[table] += 1
            continue
        given = {}
        for name, text in zip(names, raw, strict=True):
            if name in types and name not in given:  # first column of a repeated name wins
                given[name] = text
        if given.get(key_col, "").strip() == "":
            data.rows_dropped[table] += 1
            continue
        try:
            row = {col: parse_value(given.get(col, ""), kind) for col, kind in types.items()}
        except Unparseable:
            data.rows_dropped[table] += 1
            continue
        key = row[key_col]
        if table == "vehicles" and key in rows:
            old_ts = rows[key]["last_update_timestamp"]
            new_ts = row["last_update_timestamp"]
            if old_ts is not None and (new_ts is None or new_ts < old_ts):
                continue  # the version already held is newer
        rows[key] = row


def load_landing(batches: Sequence[Path]) -> ReferenceData:
    """Read the landing batches in order and keep the winning version of every row."""
    data = ReferenceData()
    for batch in batches:
        batch = Path(batch)
        for table, names in FILES.items():
            for name in names:
                path = batch / name
                if path.is_file():
                    _load_file(data, table, path)
    return data


# -- KPIs ----------------------------------------------------------------------------------


def _r2(value: Decimal | None) -> Decimal | None:
    return None if value is None else value.quantize(CENT, rounding=ROUND_HALF_UP)


def _avg(total: Decimal, count: int) -> Decimal | None:
    return _r2(total / count) if count else None


def _hours(seconds: int, count: int = 1) -> Decimal | None:
    return _r2(Decimal(seconds) / (3600 * count)) if count else None


def _sort_key(row: tuple) -> tuple:
    return tuple((v is not None, v) for v in row)


def _sorted(rows: Iterable[tuple]) -> list[tuple]:
    return sorted(rows, key=_sort_key)


class _Group:
    __slots__ = ("amounts", "count", "seconds", "users", "vehicles", "revenue")

    def __init__(self) -> None:
        self.count = 0
        self.revenue = Decimal(0)
        self.seconds = 0
        self.amounts: list[Decimal] = []
        self.users: set = set()
        self.vehicles: set = set()

    def add(self, f: dict) -> None:
        self.count += 1
        self.revenue += f["amount"]
        self.seconds += f["seconds"]
        self.amounts.append(f["amount"])
        if f["user_id"] is not None:
            self.users.add(f["user_id"])
        if f["vehicle_id"] is not None:
            self.vehicles.add(f["vehicle_id"])


def _groups(fact: list[dict], key) -> dict:
    groups: dict = defaultdict(_Group)
    for f in fact:
        groups[key(f)].add(f)
    return groups


def _text_or_unknown(row: dict | None, column: str) -> str:
    value = row.get(column) if row else None
    return UNKNOWN if value is None else value


def vw_location_performance(data: ReferenceData, fact: list[dict]) -> list[tuple]:
    out = []
    for loc_id, g in _groups(fact, lambda f: f["pickup_location"]).items():
        loc = data.locations.get(loc_id) if loc_id is not None else None
        out.append((
            loc_id,
            _text_or_unknown(loc, "location_name"),
            _text_or_unknown(loc, "city"),
            _text_or_unknown(loc, "state"),
            g.count,
            _r2(g.revenue),
            _avg(g.revenue, g.count),
            _r2(max(g.amounts)),
            _r2(min(g.amounts)),
            len(g.vehicles),
            _hours(g.seconds, g.count),
        ))  # fmt: skip
    return _sorted(out)


def vw_vehicle_type_performance(fact: list[dict]) -> list[tuple]:
    return _sorted(
        (
            vtype,
            g.count,
            _r2(g.revenue),
            _avg(g.revenue, g.count),
            _hours(g.seconds),
            _hours(g.seconds, g.count),
        )
        for vtype, g in _groups(fact, lambda f: f["vehicle_type"]).items()
    )


def vw_daily_transaction_metrics(fact: list[dict]) -> list[tuple]:
    return _sorted(
        (
            day,
            g.count,
            _r2(g.revenue),
            _avg(g.revenue, g.count),
            _r2(max(g.amounts)),
            _r2(min(g.amounts)),
            len(g.users),
        )
        for day, g in _groups(fact, lambda f: f["rental_date"]).items()
    )


def vw_user_engagement_metrics(fact: list[dict]) -> list[tuple]:
    def user(f):
        return UNKNOWN if f["user_id"] is None else f["user_id"]

    return _sorted(
        (
            uid,
            g.count,
            _r2(g.revenue),
            _avg(g.revenue, g.count),
            _hours(g.seconds),
            _hours(g.seconds, g.count),
            _r2(max(g.amounts)),
            _r2(min(g.amounts)),
        )
        for uid, g in _groups(fact, user).items()
    )


def vw_top_revenue_days(fact: list[dict]) -> list[tuple]:
    by_day = _groups(fact, lambda f: f["rental_date"])
    days = [(day, _r2(g.revenue), g.count) for day, g in by_day.items()]
    out = []
    for day, revenue, count in days:
        rank = 1 + sum(1 for _, other, _ in days if other > revenue)  # SQL RANK(): ties share
        if rank <= TOP_DAYS:
            out.append((day, revenue, count, rank))
    return _sorted(out)


def vw_rental_business_summary(fact: list[dict]) -> list[tuple]:
    g = _Group()
    for f in fact:
        g.add(f)
    return [
        (
            g.count,
            _r2(g.revenue),
            len(g.users),
            len(g.vehicles),
            _avg(g.revenue, g.count),
            _hours(g.seconds, g.count),
        )
    ]


def kpis(data: ReferenceData) -> dict[str, list[tuple]]:
    """The six vehicle-rental views for already loaded data."""
    with localcontext() as ctx:
        ctx.prec = PRECISION
        fact = data.fact()
        return {
            "vw_location_performance": vw_location_performance(data, fact),
            "vw_vehicle_type_performance": vw_vehicle_type_performance(fact),
            "vw_daily_transaction_metrics": vw_daily_transaction_metrics(fact),
            "vw_user_engagement_metrics": vw_user_engagement_metrics(fact),
            "vw_top_revenue_days": vw_top_revenue_days(fact),
            "vw_rental_business_summary": vw_rental_business_summary(fact),
        }


def compute_vehicle_kpis(batches: Sequence[Path]) -> dict[str, list[tuple]]:
    """View name -> rows (tuples in ``VIEW_COLUMNS`` order, sorted, None first)."""
    return kpis(load_landing(batches))


def vehicle_fact_stats(batches: Sequence[Path]) -> FactStats:
    """Raw numbers for an end-to-end test: valid fact rows, exact revenue, distinct users."""
    return load_landing(batches).stats()


def as_dicts(view: str, rows: Iterable[tuple]) -> list[dict]:
    """Rows of a view as dicts keyed by column name (for readable assertion messages)."""
    cols = VIEW_COLUMNS[view]
    return [dict(zip(cols, row, strict=True)) for row in rows]
