"""Synthetic vehicle-rental data in the lab's CSV format (the landing files of the domain).

Imitates the car-rental lab dataset profiled in
``shared/datasets/car-rental-emr-lab/SOURCE.md``: 10-character lowercase hex ids for
vehicles, users and rentals, 4-digit location ids, rental starts 2024-01-01..2024-05-31 at
minute precision, 1..72 hour rentals priced per hour by vehicle type (the lab's rates:
basic 10, premium 20, high_end 50), amounts printed the pandas way (``450.0``,
``53.33``). Vehicles carry the lab's day-first timestamps (``last_update_timestamp``
``dd-MM-yyyy HH:mm:ss``, ``expiration_date`` ``dd-MM-yyyy``); everything else is
``yyyy-MM-dd[ HH:mm:ss]``.

Dirt the pipeline must survive (shares of a file's rows; the number of dirty rows is
exactly ``max(1, round(rows x share))``, so even a tiny scale shows every kind, and the
kinds of transaction dirt fall on disjoint rows):

- ``VEHICLE_OLD_VERSION_SHARE``: rows of vehicles.csv that are an older version of
  another vehicle: same ``vehicle_id``, ``last_update_timestamp`` 1..365 days earlier, in
  ``VEHICLE_TYPE_CHANGE_SHARE`` of them another ``vehicle_type`` (and sometimes another
  ``active``). The file is shuffled, so an older version often comes after the current one:
  the latest timestamp must win, not the last line.
- ``UNKNOWN_VEHICLE_SHARE``: transactions of a vehicle_id that is not in vehicles.csv
  (late-arriving or never sent).
- ``UNKNOWN_USER_SHARE``: transactions of a user_id that is not in users.csv.
- ``NON_POSITIVE_DURATION_SHARE``: transactions with ``rental_end_time <= rental_start_time``
  (the first one ends exactly at its start, the others alternate between that and ending
  hours before the start).
- ``NEGATIVE_AMOUNT_SHARE``: transactions with a negative ``total_amount``.
- ``MINUTE_DURATION_SHARE`` (a probability, not dirt): rentals lasting whole hours plus
  1..59 minutes (e.g. 2h40m, priced pro rata to the cent); the rest last whole hours as in
  the lab. With 1..72 hour rentals most cross midnight and some cross a month end.
- ``LEADING_ZERO_ZIP_SHARE``: locations whose zip code starts with 0 (text, not a number).

Fixed rows make the interesting cases certain at any scale: transaction 0 is a clean rental
of a vehicle whose older version has another vehicle_type, transaction 1 crosses a month
end and midnight and lasts 5h20m.

Every row is well-formed CSV with the header's number of fields (values with commas are
quoted). Output is a pure function of (scale, seed): the same arguments give
byte-identical files. Everything is generated column-wise with numpy.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import numpy as np

from rental_analytics.local import names
from rental_analytics.local.csv_files import write_csv

VEHICLE_LAB_COUNTS = {
    "vehicles": 110_000,
    "locations": 300,
    "rental_users": 30_000,
    "rental_transactions": 20_000,
}
MIN_ROWS = 10

VEHICLE_OLD_VERSION_SHARE = 0.02
VEHICLE_TYPE_CHANGE_SHARE = 0.5  # of the older versions
UNKNOWN_VEHICLE_SHARE = 0.01
UNKNOWN_USER_SHARE = 0.005
NON_POSITIVE_DURATION_SHARE = 0.003
NEGATIVE_AMOUNT_SHARE = 0.002
MINUTE_DURATION_SHARE = 0.30
LEADING_ZERO_ZIP_SHARE = 0.05
RENTER_SHARE = 1 / 3  # users who rent at all (lab: 10,000 of 30,000)

# Table name -> file name; the keys are the pipeline's table names.
FILE_NAMES = {
    "vehicles": "vehicles.csv",
    "locations": "locations.csv",
    "rental_users": "users.csv",
    "rental_transactions": "rental_transactions.csv",
}
COLUMNS = {
    "vehicles": (
        "active", "vehicle_license_number", "registration_name", "license_type",
        "expiration_date", "permit_license_number", "certification_date", "vehicle_year",
        "base_telephone_number", "base_address", "vehicle_id", "last_update_timestamp",
        "brand", "vehicle_type",
    ),
    "locations": (
        "location_id", "location_name", "address", "city", "state", "zip_code", "latitude",
        "longitude",
    ),
    "rental_users": (
        "user_id", "first_name", "last_name", "email", "phone_number", "driver_license_number",
        "driver_license_expiry", "creation_date", "is_active",
    ),
    "rental_transactions": (
        "rental_id", "user_id", "vehicle_id", "rental_start_time", "rental_end_time",
        "pickup_location", "dropoff_location", "total_amount",
    ),
}  # fmt: skip

VEHICLE_TYPES = ("basic", "premium", "high_end")
VEHICLE_TYPE_P = (0.4, 0.4, 0.2)  # lab: 7,931 / 8,139 / 4,010 rentals at 10 / 20 / 50 per hour
HOURLY_RATE = (10, 20, 50)  # per vehicle type
BRANDS_BY_TYPE = (
    ("Toyota", "Chevrolet", "Ford", "Honda", "Nissan", "Hyundai", "Kia", "Volkswagen"),
    ("BMW", "Mercedes-Benz", "Audi", "Tesla", "Lexus", "Volvo"),
    ("Ferrari", "Lamborghini", "Porsche", "Maserati", "Bentley"),
)
BRAND_MATCHES_TYPE_SHARE = 0.9

RENTALS_FIRST_DAY = date(2024, 1, 1)
RENTALS_DAYS = 152  # 2024-01-01 .. 2024-05-31
MAX_RENTAL_HOURS = 72

# The apartments generator's names first, then more.
SURNAMES = (
    *names.SURNAMES,
    "Velazquez", "Gonzales", "Bean", "Gilbert", "Simmons", "Coleman", "Robinson", "Deleon",
    "Griffin", "Huff", "Ward",
)  # fmt: skip
FIRST_NAMES = (
    *names.FIRST_NAMES,
    "Courtney", "Andrew", "Michael", "Molly", "Jennifer", "Robert", "Maria", "Daniel",
    "Jessica", "Christopher", "Ashley", "Matthew", "Stephanie", "Joshua", "Heather", "John",
)  # fmt: skip
COMPANY_SUFFIXES = ("LLC", "Inc", "Group", "PLC", "Ltd", "and Sons")
STREET_SUFFIXES = (
    "Radial", "Isle", "Locks", "Causeway", "View", "Spurs", "Parkways", "Extension",
    "Square", "Loaf", "Street", "Avenue", "Lane", "Road", "Drive", "Court", "Way",
)  # fmt: skip
CA_CITIES = (
    "Anaheim", "Bakersfield", "Chula Vista", "Fontana", "Fremont", "Fresno", "Glendale",
    "Irvine", "Long Beach", "Los Angeles", "Modesto", "Oakland", "Riverside", "Roseville",
    "Sacramento", "San Diego", "San Francisco", "San Jose", "Santa Ana", "Stockton",
)  # fmt: skip
EMAIL_DOMAINS = ("gmail.com", "yahoo.com", "hotmail.com")
NYC_STREETS = (
    "THIRD STREET", "ATLANTIC AVENUE", "BROADWAY", "QUEENS BOULEVARD", "JAMAICA AVENUE",
    "NOSTRAND AVENUE", "WEST 42ND STREET", "FLATBUSH AVENUE", "GRAND CONCOURSE",
)  # fmt: skip
NYC_TOWNS = (("BROOKLYN", "112"), ("QUEENS", "113"), ("BRONX", "104"), ("NEW YORK", "100"))
REGISTRATION_WORDS = (
    "CITY", "LIVERY", "LEASING", "TRANSIT", "CAR", "SERVICE", "FLEET", "EXPRESS", "METRO",
)  # fmt: skip
REGISTRATION_SUFFIXES = ("INC", "CORP", "LLC")
_ALNUM = np.frombuffer(b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", dtype=np.uint8)
_UPPER = np.frombuffer(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ", dtype=np.uint8)


def _lookup(values) -> np.ndarray:
    """An object array of strings: fancy indexing it yields Python strings."""
    return np.array(list(values), dtype=object)


def planned_vehicle_counts(scale: float) -> dict[str, int]:
    """Rows per file at lab scale x ``scale`` (keys as in ``VEHICLE_LAB_COUNTS``), never
    fewer than ``MIN_ROWS``. The vehicles count includes the older versions."""
    if not scale > 0:
        raise ValueError(f"scale must be positive, got {scale}")
    return {t: max(MIN_ROWS, round(n * scale)) for t, n in VEHICLE_LAB_COUNTS.items()}


def dirt_count(rows: int, share: float) -> int:
    """Dirty rows of one kind in a file of ``rows`` rows."""
    return max(1, round(rows * share))


def write_vehicle_csvs(directory: Path, scale: float, seed: int) -> dict[str, Path]:
    """Write vehicles.csv, locations.csv, users.csv, rental_transactions.csv (lab format)
    into directory; return table name -> path (keys: vehicles, locations, rental_users,
    rental_transactions)."""
    counts = planned_vehicle_counts(scale)
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    # One independent stream per table: a change to one table's recipe leaves the others.
    streams = np.random.SeedSequence([seed, 0x7E41C1E5]).spawn(len(FILE_NAMES))
    rngs = {t: np.random.default_rng(s) for t, s in zip(FILE_NAMES, streams, strict=True)}
    vehicles = _vehicles(rngs["vehicles"], counts["vehicles"])
    locations = _locations(rngs["locations"], counts["locations"])
    users = _users(rngs["rental_users"], counts["rental_users"])
    tables = {
        "vehicles": vehicles.columns,
        "locations": locations,
        "rental_users": users,
        "rental_transactions": _transactions(
            rngs["rental_transactions"],
            counts["rental_transactions"],
            vehicles,
            users["user_id"],
            locations["location_id"],
        ),
    }
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    files = {}
    for table, columns in tables.items():
        files[table] = directory / FILE_NAMES[table]
        write_csv(files[table], COLUMNS[table], columns)
    return files


# -- formatting --------------------------------------------------------------------------


def _day_strings(first: date, days: int, fmt: str) -> np.ndarray:
    return _lookup((first + timedelta(d)).strftime(fmt) for d in range(days))


_TIMES = _lookup(f" {m // 60:02d}:{m % 60:02d}:00" for m in range(1440))


def _timestamps(minutes: np.ndarray, days: np.ndarray) -> np.ndarray:
    """Day string + time for minute offsets from the first day of ``days``."""
    return days[minutes // 1440] + _TIMES[minutes % 1440]


def _hex_ids(rng: np.random.Generator, n: int, exclude: np.ndarray | None = None) -> np.ndarray:
    """``n`` distinct random 10-digit lowercase hex ids (as integers), none in ``exclude``."""
    out = np.empty(0, dtype=np.int64)
    while len(out) < n:
        draw = rng.integers(0, 16**10, n - len(out) + 16 + n // 100, dtype=np.int64)
        pool = np.concatenate([out, draw])
        _, first = np.unique(pool, return_index=True)
        pool = pool[np.sort(first)]
        if exclude is not None:
            pool = pool[~np.isin(pool, exclude)]
        out = pool[:n]
    return out


def _hex(values: np.ndarray) -> np.ndarray:
    return _lookup(f"{v:010x}" for v in values.tolist())


def _codes(rng: np.random.Generator, alphabet: np.ndarray, n: int, width: int) -> list[str]:
    chars = alphabet[rng.integers(0, len(alphabet), (n, width))]
    return [b.decode("ascii") for b in np.ascontiguousarray(chars).view(f"S{width}").ravel()]


def _digits(rng: np.random.Generator, n: int, width: int) -> list[str]:
    return [f"{v:0{width}d}" for v in rng.integers(0, 10**width, n).tolist()]


def _money(cents: np.ndarray) -> list[str]:
    # Printed as the lab export does (pandas: shortest float repr): 450.0, 53.33, -80.0.
    return list(map(repr, (cents / 100).tolist()))


def _fixed(units: np.ndarray, decimals: int) -> list[str]:
    """Exact decimals from integer units, e.g. -744558925 with 7 decimals: -74.4558925."""
    out = []
    scale = 10**decimals
    for u in units.tolist():
        whole, frac = divmod(abs(u), scale)
        out.append(f"{'-' if u < 0 else ''}{whole}.{frac:0{decimals}d}")
    return out


def _company_names(rng: np.random.Generator, n: int) -> list[str]:
    """Faker-style: 'Jackson, Velazquez and Gonzales', 'Bean LLC', 'Gilbert-Simmons'."""
    names = _lookup(SURNAMES)
    a, b, c = (names[rng.integers(0, len(names), n)].tolist() for _ in range(3))
    suffix = _lookup(COMPANY_SUFFIXES)[rng.integers(0, len(COMPANY_SUFFIXES), n)].tolist()
    style = rng.integers(0, 3, n).tolist()
    return [
        f"{x}, {y} and {z}" if s == 0 else f"{x} {suf}" if s == 1 else f"{x}-{y}"
        for x, y, z, suf, s in zip(a, b, c, suffix, style, strict=True)
    ]


# -- tables ------------------------------------------------------------------------------


class _Vehicles:
    """The written vehicles.csv columns plus what the transactions need: the current
    vehicles' ids and types, and which vehicle has an older version of another type."""

    def __init__(self, columns, ids, types, changed_type_vehicle):
        self.columns = columns
        self.ids = ids  # int64, current vehicles (one per vehicle_id)
        self.types = types  # index into VEHICLE_TYPES, current version
        self.changed_type_vehicle = changed_type_vehicle  # index into ids


def _vehicles(rng: np.random.Generator, n: int) -> _Vehicles:
    old = dirt_count(n, VEHICLE_OLD_VERSION_SHARE)
    d = n - old  # distinct vehicles
    ids = _hex_ids(rng, d)
    vtype = rng.choice(3, d, p=VEHICLE_TYPE_P)
    brand_pool = [_lookup(b) for b in BRANDS_BY_TYPE]
    all_brands = _lookup(b for group in BRANDS_BY_TYPE for b in group)
    brand = all_brands[rng.integers(0, len(all_brands), d)]
    matches = rng.random(d) < BRAND_MATCHES_TYPE_SHARE
    for t, pool in enumerate(brand_pool):
        sel = matches & (vtype == t)
        brand[sel] = pool[rng.integers(0, len(pool), int(sel.sum()))]

    year = rng.integers(2012, 2025, d)
    cert_first = date(2012, 1, 1)
    cert_days = _day_strings(cert_first, (date(2024, 6, 1) - cert_first).days, "%Y-%m-%d")
    year_start = np.array([(date(y, 1, 1) - cert_first).days for y in range(2012, 2025)])
    start = year_start[year - 2012]
    cert = start + (rng.random(d) * (len(cert_days) - start)).astype(np.int64)
    exp_first = date(2024, 6, 1)
    exp_days = _day_strings(exp_first, (date(2027, 1, 1) - exp_first).days, "%d-%m-%Y")

    # Operating bases (the TLC "base" a for-hire vehicle belongs to): phone and address.
    n_bases = 40
    towns = rng.integers(0, len(NYC_TOWNS), n_bases).tolist()
    base_phone = _lookup(
        f"({a}){b}-{c:04d}"
        for a, b, c in zip(
            rng.choice([212, 347, 646, 718, 917], n_bases).tolist(),
            rng.integers(200, 1000, n_bases).tolist(),
            rng.integers(0, 10_000, n_bases).tolist(),
            strict=True,
        )
    )
    base_address = _lookup(
        f"{num} {NYC_STREETS[s]}, {NYC_TOWNS[t][0]}, NY {NYC_TOWNS[t][1]}{z:02d}"
        for num, s, t, z in zip(
            rng.integers(1, 3000, n_bases).tolist(),
            rng.integers(0, len(NYC_STREETS), n_bases).tolist(),
            towns,
            rng.integers(0, 40, n_bases).tolist(),
            strict=True,
        )
    )
    base = rng.integers(0, n_bases, d)

    reg_pool = []
    words = _lookup(REGISTRATION_WORDS)
    for _ in range(400):
        if rng.random() < 0.6:
            reg_pool.append(
                f"{SURNAMES[rng.integers(len(SURNAMES))].upper()},"
                f"{FIRST_NAMES[rng.integers(len(FIRST_NAMES))].upper()}"
            )
        else:
            picked = ",".join(words[rng.choice(len(words), 3, replace=False)].tolist())
            reg_pool.append(f"{picked},{REGISTRATION_SUFFIXES[rng.integers(3)]}")
    registration = _lookup(reg_pool)[rng.integers(0, len(reg_pool), d)]

    # last_update_timestamp of the current version: 2024-01-01 .. 2024-06-30, minutes.
    ts_first = date(2023, 1, 1)
    ts_days = _day_strings(ts_first, (date(2024, 7, 1) - ts_first).days, "%d-%m-%Y")
    current_from = (date(2024, 1, 1) - ts_first).days * 1440
    updated = current_from + rng.integers(0, 182 * 1440, d)

    per_vehicle = {
        "active": np.where(rng.random(d) < 0.85, "1", "0").astype(object),
        "vehicle_license_number": _lookup(map(str, rng.integers(5_000_000, 6_000_000, d))),
        "registration_name": registration,
        "license_type": np.full(d, "FOR HIRE VEHICLE", dtype=object),
        "expiration_date": exp_days[rng.integers(0, len(exp_days), d)],
        "permit_license_number": _lookup(_codes(rng, _ALNUM, d, 8)),
        "certification_date": cert_days[cert],
        "vehicle_year": _lookup(map(str, year.tolist())),
        "base_telephone_number": base_phone[base],
        "base_address": base_address[base],
        "vehicle_id": _hex(ids),
        "brand": brand,
    }

    # Older versions: copies of `old` distinct vehicles, updated 1..365 days earlier.
    src = rng.choice(d, old, replace=False)
    change = rng.random(old) < VEHICLE_TYPE_CHANGE_SHARE
    change[0] = True
    old_type = np.where(change, (vtype[src] + rng.integers(1, 3, old)) % 3, vtype[src])
    old_updated = updated[src] - rng.integers(1440, 366 * 1440, old)
    rows = np.concatenate([np.arange(d), src])
    columns = {name: col[rows] for name, col in per_vehicle.items()}
    flip = rng.random(old) < 0.2
    columns["active"][d:][flip] = np.where(columns["active"][d:][flip] == "1", "0", "1")
    columns["last_update_timestamp"] = _timestamps(np.concatenate([updated, old_updated]), ts_days)
    columns["vehicle_type"] = _lookup(VEHICLE_TYPES)[np.concatenate([vtype, old_type])]

    # Shuffle the file; make sure at least one older version comes after its current row.
    order = rng.permutation(n)
    position = np.empty(n, dtype=np.int64)
    position[order] = np.arange(n)
    if position[d] < position[src[0]]:
        a, b = position[d], position[src[0]]
        order[a], order[b] = order[b], order[a]
    columns = {name: col[order] for name, col in columns.items()}
    return _Vehicles(columns, ids, vtype, int(src[0]))


def _locations(rng: np.random.Generator, n: int) -> dict[str, object]:
    # 4-digit ids as in the lab (1000..9999) while they suffice.
    high = 10_000 if n <= 9_000 else 1_000 + 10 * n
    ids = rng.choice(np.arange(1_000, high), n, replace=False)
    zips = rng.integers(90_001, 96_162, n)
    leading_zero = rng.choice(n, dirt_count(n, LEADING_ZERO_ZIP_SHARE), replace=False)
    zips[leading_zero] = rng.integers(1_001, 10_000, len(leading_zero))
    street = _lookup(SURNAMES)[rng.integers(0, len(SURNAMES), n)].tolist()
    suffix = _lookup(STREET_SUFFIXES)[rng.integers(0, len(STREET_SUFFIXES), n)].tolist()
    unit = np.where(rng.random(n) < 0.4, rng.integers(100, 1000, n), 0).tolist()
    unit_kind = rng.choice(["Apt.", "Suite"], n).tolist()
    number = rng.integers(1, 100_000, n).tolist()
    return {
        "location_id": _lookup(map(str, ids.tolist())),
        "location_name": _company_names(rng, n),
        "address": [
            f"{a} {b} {c}{f' {k} {u}' if u else ''}"
            for a, b, c, k, u in zip(number, street, suffix, unit_kind, unit, strict=True)
        ],
        "city": _lookup(CA_CITIES)[rng.integers(0, len(CA_CITIES), n)],
        "state": np.full(n, "CA", dtype=object),
        "zip_code": [f"{z:05d}" for z in zips.tolist()],
        "latitude": _fixed(rng.integers(-900_000_000, 900_000_001, n), 7),
        "longitude": _fixed(rng.integers(-180_000_000, 180_000_001, n), 6),
    }


def _phones(rng: np.random.Generator, n: int) -> list[str]:
    """Free-form phone numbers as in the lab: 334.271.2972x60554, +1-467-858-1702, ..."""
    area = rng.integers(0, 1000, n).tolist()
    mid = rng.integers(0, 1000, n).tolist()
    last = rng.integers(0, 10_000, n).tolist()
    ext = rng.integers(1, 100_000, n).tolist()
    has_ext = (rng.random(n) < 0.4).tolist()
    style = rng.integers(0, 6, n).tolist()
    patterns = (
        "{a:03d}.{b:03d}.{c:04d}",
        "{a:03d}-{b:03d}-{c:04d}",
        "+1-{a:03d}-{b:03d}-{c:04d}",
        "001-{a:03d}-{b:03d}-{c:04d}",
        "({a:03d}){b:03d}-{c:04d}",
        "{a:03d}{b:03d}{c:04d}",
    )
    return [
        patterns[s].format(a=x, b=y, c=z) + (f"x{e}" if h else "")
        for x, y, z, e, h, s in zip(area, mid, last, ext, has_ext, style, strict=True)
    ]


def _users(rng: np.random.Generator, n: int) -> dict[str, object]:
    first = _lookup(FIRST_NAMES)[rng.integers(0, len(FIRST_NAMES), n)]
    last = _lookup(SURNAMES)[rng.integers(0, len(SURNAMES), n)]
    domain = _lookup(EMAIL_DOMAINS)[rng.integers(0, len(EMAIL_DOMAINS), n)]
    iso_first = date(2024, 1, 1)
    iso_days = _day_strings(iso_first, (date(2034, 6, 4) - iso_first).days, "%Y-%m-%d")
    expiry_from = (date(2024, 6, 4) - iso_first).days
    licence = _codes(rng, _UPPER, n, 2)
    return {
        "user_id": _hex(_hex_ids(rng, n)),
        "first_name": first,
        "last_name": last,
        "email": [
            f"{f.lower()}.{la.lower()}@{dm}"
            for f, la, dm in zip(first.tolist(), last.tolist(), domain.tolist(), strict=True)
        ],
        "phone_number": _phones(rng, n),
        "driver_license_number": [p + d for p, d in zip(licence, _digits(rng, n, 6), strict=True)],
        "driver_license_expiry": iso_days[rng.integers(expiry_from, len(iso_days), n)],
        "creation_date": iso_days[rng.integers(0, 151, n)],  # 2024-01-01 .. 2024-05-30
        "is_active": np.where(rng.random(n) < 0.8, "1", "0").astype(object),
    }


def _transactions(
    rng: np.random.Generator,
    n: int,
    vehicles: _Vehicles,
    user_ids: np.ndarray,
    location_ids: np.ndarray,
) -> dict[str, object]:
    # Renters: a third of the users; each rents at least once while rentals last (lab:
    # 10,000 users with 1..3 rentals each), the remaining rentals go to random renters.
    renters = rng.permutation(len(user_ids))[: max(1, round(len(user_ids) * RENTER_SHARE))]
    covered = min(n, len(renters))
    renter = np.concatenate([np.arange(covered), rng.integers(0, len(renters), n - covered)])
    user = user_ids[renters[rng.permutation(renter)]]
    vehicle = rng.integers(0, len(vehicles.ids), n)
    vehicle[0] = vehicles.changed_type_vehicle
    vehicle_id = _hex(vehicles.ids[vehicle])
    vtype = vehicles.types[vehicle]

    # Durations: whole hours 1..72, some with minutes as well.
    minutes = rng.integers(1, MAX_RENTAL_HOURS + 1, n) * 60
    with_minutes = rng.random(n) < MINUTE_DURATION_SHARE
    minutes = minutes + np.where(with_minutes, rng.integers(1, 60, n), 0)
    # Starts 2024-01-01 .. 2024-05-31 at minute precision.
    ts_first = RENTALS_FIRST_DAY - timedelta(days=31)  # room for ends before the start
    ts_days = _day_strings(ts_first, 31 + RENTALS_DAYS + 5, "%Y-%m-%d")
    start = 31 * 1440 + rng.integers(0, RENTALS_DAYS * 1440, n)
    # Row 1: across midnight and a month end, 5h20m (2024-01-31 22:15 -> 02-01 03:35).
    start[1] = (31 + 30) * 1440 + 22 * 60 + 15
    minutes[1] = 5 * 60 + 20

    # Price per hour by the vehicle's current type, pro rata to the cent (half up).
    rate = np.asarray(HOURLY_RATE)[vtype]
    cents = (rate * minutes * 100 + 30) // 60

    # Dirt on disjoint rows (rows 0 and 1 stay clean).
    counts = [
        dirt_count(n, UNKNOWN_VEHICLE_SHARE),
        dirt_count(n, UNKNOWN_USER_SHARE),
        dirt_count(n, NON_POSITIVE_DURATION_SHARE),
        dirt_count(n, NEGATIVE_AMOUNT_SHARE),
    ]
    picked = rng.permutation(np.arange(2, n))
    bounds = np.cumsum([0, *counts])
    unknown_vehicle, unknown_user, bad_duration, negative = (
        np.sort(picked[bounds[i] : bounds[i + 1]]) for i in range(4)
    )

    pool = _hex_ids(rng, len(unknown_vehicle), exclude=vehicles.ids)
    vehicle_id[unknown_vehicle] = _hex(pool[rng.integers(0, len(pool), len(unknown_vehicle))])
    rate_unknown = np.asarray(HOURLY_RATE)[rng.choice(3, len(unknown_vehicle), p=VEHICLE_TYPE_P)]
    cents[unknown_vehicle] = (rate_unknown * minutes[unknown_vehicle] * 100 + 30) // 60

    known_users = np.array([int(u, 16) for u in user_ids.tolist()], dtype=np.int64)
    user[unknown_user] = _hex(_hex_ids(rng, len(unknown_user), exclude=known_users))

    end = start + minutes
    # Non-positive durations: the first ends at its start, the others alternate between
    # that and ending 1..12 hours before the start.
    before = np.arange(len(bad_duration)) % 2 == 1
    end[bad_duration] = start[bad_duration] - np.where(
        before, rng.integers(1, 13, len(bad_duration)) * 60, 0
    )
    cents[negative] = -cents[negative]

    pickup = rng.integers(0, len(location_ids), n)
    dropoff = (pickup + rng.integers(1, len(location_ids), n)) % len(location_ids)
    return {
        "rental_id": _hex(_hex_ids(rng, n)),
        "user_id": user,
        "vehicle_id": vehicle_id,
        "rental_start_time": _timestamps(start, ts_days),
        "rental_end_time": _timestamps(end, ts_days),
        "pickup_location": _lookup(map(str, location_ids[pickup].tolist())),
        "dropoff_location": _lookup(map(str, location_ids[dropoff].tolist())),
        "total_amount": _money(cents),
    }
