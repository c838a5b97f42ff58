"""Synthetic data in the lab's export format, imported like real files (apartments domain
here; the vehicle domain in ``generator_vehicles``, landed like imported files).

Imitates the full lab dataset as profiled in
``shared/datasets/rental-marketplace-lab-samples/SOURCE.md`` (Faker data: ids 1..N, prices
1000..5000 in EUR/INR/USD, randomly paired city/state, dates 2020-01..2025-03), with the
dirt the pipeline must survive and enough realistic structure for the KPIs to mean
something:

- bookings: ~30% lab-style rows with three unrelated random dates (checkout often before
  checkin); the rest book 0..90 days ahead for 1..21 nights, after the listing was
  created, in the listing's currency; overlapping stays on one listing; repeat customers
  (the same user again 0..30 days later, sometimes the same day); ~1% for apartment ids
  that do not exist (late-arriving or unknown listings); status confirmed/pending/canceled
  with some variants in case and whitespace;
- apartment_attributes: ~0.5% of listings have no attributes row, a few rows belong to no
  listing; pets_allowed NULL in ~65% of rows.

Output is a pure function of (scale, seed): the same arguments give byte-identical files,
whatever the date. Everything is generated column-wise with numpy.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np

from rental_analytics.config import Settings
from rental_analytics.local.csv_files import write_csv
from rental_analytics.local.generator_vehicles import planned_vehicle_counts, write_vehicle_csvs
from rental_analytics.local.importer import ImportSummary, import_files, land_vehicle_files
from rental_analytics.local.names import FIRST_NAMES, SURNAMES

FIRST_DATE = date(2020, 1, 1)
LAST_DATE = date(2025, 3, 31)
SPAN_DAYS = (LAST_DATE - FIRST_DATE).days + 1


def _lookup(values) -> np.ndarray:
    """An object array of strings: fancy indexing it yields Python strings, no conversion."""
    return np.array(list(values), dtype=object)


LAB_COUNTS = {
    "apartments": 200_000,
    "user_viewing": 300_000,
    "bookings": 500_000,
    "users": 10_000,
}
MIN_ROWS = 10
MIN_USERS = 20
MISSING_ATTRIBUTES_SHARE = 0.005  # listings without an attributes row
ORPHAN_ATTRIBUTES_SHARE = 0.0005  # attributes rows without a listing
LAB_STYLE_BOOKINGS_SHARE = 0.30  # fully random dates, as in the lab export
UNKNOWN_LISTING_SHARE = 0.01
OVERLAP_SHARE = 0.03
REPEAT_SHARE = 0.10
STATUS_VARIANT_SHARE = 0.05
PETS_NULL_SHARE = 129_044 / 200_000

COLUMNS = {
    "apartments": (
        "id", "title", "source", "price", "currency", "listing_created_on", "is_active",
        "last_modified_timestamp",
    ),
    "apartment_attributes": (
        "id", "category", "body", "amenities", "bathrooms", "bedrooms", "fee", "has_photo",
        "pets_allowed", "price_display", "price_type", "square_feet", "address", "cityname",
        "state", "latitude", "longitude",
    ),
    "bookings": (
        "booking_id", "user_id", "apartment_id", "booking_date", "checkin_date",
        "checkout_date", "total_price", "currency", "booking_status",
    ),
    "user_viewing": ("user_id", "apartment_id", "viewed_at", "is_wishlisted", "call_to_action"),
}  # fmt: skip

CURRENCIES = _lookup(["EUR", "INR", "USD"])
SOURCES = _lookup(["Airbnb", "Apartments.com", "Craigslist", "Realtor", "Zillow"])
CATEGORIES = _lookup(["1BHK", "2BHK", "3BHK", "Penthouse", "Studio"])
PRICE_TYPES = _lookup(["Monthly", "Yearly", "One-time"])
CALLS_TO_ACTION = _lookup(["Contact Agent", "Reported", "Shortlisted"])
CITIES = _lookup([
    "New York", "Los Angeles", "Chicago", "Houston", "Phoenix", "Philadelphia", "San Antonio",
    "San Diego", "Dallas", "Austin", "San Jose", "Seattle", "Denver", "Boston", "Miami",
])  # fmt: skip
STATES = _lookup([
    "New York", "California", "Illinois", "Texas", "Arizona", "Pennsylvania", "Washington",
    "Colorado", "Massachusetts", "Florida", "Georgia", "Oregon",
])  # fmt: skip
STATE_CODES = (
    "AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "FL", "GA", "HI", "ID", "IL", "IN", "IA",
    "KS", "KY", "LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH", "NJ",
    "NM", "NY", "NC", "ND", "OH", "OK", "OR", "PA", "RI", "SC", "SD", "TN", "TX", "UT", "VT",
    "VA", "WA", "WV", "WI", "WY",
)  # fmt: skip
STREET_SUFFIXES = (
    "Street", "Avenue", "Lane", "Road", "Turnpike", "Island", "Drive", "Court", "Way", "Place",
    "Boulevard", "Crossing",
)  # fmt: skip
COMPANY_SUFFIXES = ("LLC", "Inc", "Group", "PLC", "Ltd")
WORDS = (
    "happy", "product", "model", "process", "necessary", "only", "forget", "war", "they",
    "industry", "article", "table", "middle", "floor", "talk", "technology", "past", "much",
    "shoulder", "collection", "approach", "return", "drive", "discussion", "shake", "artist",
    "believe", "international", "road", "career", "law", "second", "firm", "agreement",
    "design", "sort", "size", "source", "rise", "follow", "course", "field", "ground", "build",
    "still", "right", "pull", "not", "man", "light", "quiet", "bright", "open", "view",
    "kitchen", "window", "garden", "near", "park", "station", "school", "market", "space",
    "family", "modern", "room", "home", "city", "street", "morning", "evening", "simple",
    "large", "small", "new",
)  # fmt: skip
AMENITIES = (
    "Balcony", "Air Conditioning", "Garden", "Pet-friendly", "Gym", "Parking", "Pool",
    "Elevator", "Dishwasher", "Washer/Dryer",
)  # fmt: skip
STATUSES = _lookup(["confirmed", "pending", "canceled"])
STATUS_VARIANTS = _lookup([
    "Confirmed", " confirmed ", "CONFIRMED", "confirmed ", "Pending", " pending", "PENDING",
    "Canceled", "canceled ", " CANCELED",
])  # fmt: skip


@dataclass(frozen=True)
class GenerateSummary:
    scale: float
    seed: int
    out_dir: Path
    files: dict[str, Path]  # table -> CSV written
    rows_written: dict[str, int]  # table -> data rows in its CSV
    generate_seconds: float
    import_summary: ImportSummary
    import_seconds: float

    def lines(self) -> list[str]:
        head = (
            f"generated scale {self.scale:g}, seed {self.seed} in {self.generate_seconds:.1f}s "
            f"into {self.out_dir}: " + ", ".join(f"{t} {n}" for t, n in self.rows_written.items())
        )
        return [head, f"imported in {self.import_seconds:.1f}s", *self.import_summary.lines()]


@dataclass(frozen=True)
class Counts:
    """Rows per generated file at a scale, and the size of the id spaces."""

    apartments: int
    missing_attributes: int
    orphan_attributes: int
    user_viewing: int
    bookings: int
    users: int

    @property
    def apartment_attributes(self) -> int:
        return self.apartments - self.missing_attributes + self.orphan_attributes

    def rows(self) -> dict[str, int]:
        return {
            "apartments": self.apartments,
            "apartment_attributes": self.apartment_attributes,
            "user_viewing": self.user_viewing,
            "bookings": self.bookings,
        }


def planned_counts(scale: float) -> Counts:
    """Lab counts x ``scale`` (scale 1: 200k apartments, 300k views, 500k bookings, 10k
    users), never below a handful of rows so tiny scales still show every kind of dirt."""
    if not scale > 0:
        raise ValueError(f"scale must be positive, got {scale}")
    apartments = max(MIN_ROWS, round(LAB_COUNTS["apartments"] * scale))
    return Counts(
        apartments=apartments,
        missing_attributes=max(1, round(apartments * MISSING_ATTRIBUTES_SHARE)),
        orphan_attributes=max(1, round(apartments * ORPHAN_ATTRIBUTES_SHARE)),
        user_viewing=max(MIN_ROWS, round(LAB_COUNTS["user_viewing"] * scale)),
        bookings=max(2 * MIN_ROWS, round(LAB_COUNTS["bookings"] * scale)),
        users=max(MIN_USERS, round(LAB_COUNTS["users"] * scale)),
    )


def default_out_dir(settings: Settings) -> Path:
    return settings.home / "generated" / "apartments"


def generate(
    settings: Settings, scale: float = 1.0, seed: int = 42, out_dir: Path | None = None
) -> GenerateSummary:
    """Write the apartments-domain CSVs for (scale, seed) and import them into the source
    database; write the vehicle-domain CSVs and land them as a new landing batch.

    The import upserts by primary key: generating again with another seed updates the same
    ids, like changes arriving in the application database.
    """
    started = time.monotonic()
    out_dir = Path(out_dir) if out_dir is not None else default_out_dir(settings)
    files, rows_written = write_csvs(out_dir, scale, seed)
    vehicle_files = write_vehicle_csvs(out_dir.parent / "vehicle_rentals", scale, seed)
    rows_written.update(planned_vehicle_counts(scale))
    generated = time.monotonic()
    summary = import_files(settings, files.values())
    landed = land_vehicle_files(settings, vehicle_files.values())
    summary = ImportSummary(directory=out_dir, files=(*summary.files, *landed))
    return GenerateSummary(
        scale=scale,
        seed=seed,
        out_dir=out_dir,
        files={**files, **vehicle_files},
        rows_written=rows_written,
        generate_seconds=round(generated - started, 3),
        import_summary=summary,
        import_seconds=round(time.monotonic() - generated, 3),
    )


def write_csvs(out_dir: Path, scale: float, seed: int) -> tuple[dict[str, Path], dict[str, int]]:
    """Generate and write the four lab-format CSVs; returns (table -> path, table -> rows)."""
    counts = planned_counts(scale)
    if not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    # One independent stream per table: a change to one table's recipe leaves the others.
    streams = np.random.SeedSequence(seed).spawn(len(COLUMNS))
    rngs = {table: np.random.default_rng(s) for table, s in zip(COLUMNS, streams, strict=True)}
    dates = _date_strings(SPAN_DAYS)
    listings = _apartments(rngs["apartments"], counts, dates)
    tables = {
        "apartments": listings.columns(dates),
        "apartment_attributes": _attributes(rngs["apartment_attributes"], counts),
        "bookings": _bookings(rngs["bookings"], counts, listings, dates),
        "user_viewing": _views(rngs["user_viewing"], counts, dates),
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    files, rows = {}, {}
    for table, columns in tables.items():
        files[table] = out_dir / f"{table}.csv"
        rows[table] = write_csv(files[table], COLUMNS[table], columns)
    return files, rows


# -- formatting --------------------------------------------------------------------------


def _date_strings(days: int) -> np.ndarray:
    """Lab-format dates (dd/MM/yyyy) by day offset from FIRST_DATE."""
    return _lookup((FIRST_DATE + timedelta(d)).strftime("%d/%m/%Y") for d in range(days))


def _money(cents: np.ndarray) -> list[str]:
    # The lab export prints floats the pandas way (shortest repr): 4867.8, 1000.0.
    return list(map(repr, (cents / 100).tolist()))


def _fixed(units: np.ndarray, decimals: int) -> list[str]:
    """Exact decimals from integer units, pandas style (trailing zeros dropped), never in
    scientific notation."""
    # The shortest repr of units / 10**decimals is exactly that decimal (few digits),
    # except for tiny values that repr writes as 1e-05.
    out = list(map(repr, (units / 10**decimals).tolist()))
    for i in np.flatnonzero(np.abs(units) < 10 ** (decimals - 4)).tolist():
        u = int(units[i])
        whole, frac = divmod(abs(u), 10**decimals)
        digits = f"{frac:0{decimals}d}".rstrip("0") or "0"
        out[i] = f"{'-' if u < 0 else ''}{whole}.{digits}"
    return out


_TRUE_FALSE = _lookup(["False", "True"])


def _bools(mask: np.ndarray) -> np.ndarray:
    return _TRUE_FALSE[mask.astype(np.int8)]


def _texts(values: np.ndarray) -> list[str]:
    return list(map(str, values.tolist()))


def _ids(start: int, stop: int) -> list[str]:
    return list(map(str, range(start, stop)))


# -- tables ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Listings:
    n: int
    created: np.ndarray  # day offset of listing_created_on
    currency: np.ndarray  # index into CURRENCIES
    extra: dict[str, object]

    def columns(self, dates: np.ndarray) -> dict[str, object]:
        return {
            **self.extra,
            "currency": CURRENCIES[self.currency],
            "listing_created_on": dates[self.created],
        }


def _apartments(rng: np.random.Generator, counts: Counts, dates: np.ndarray) -> _Listings:
    n = counts.apartments
    created = rng.integers(0, SPAN_DAYS, n)
    # Modified on or after creation (date only, as in the export).
    modified = created + (rng.random(n) * (SPAN_DAYS - created)).astype(np.int64)
    return _Listings(
        n=n,
        created=created,
        currency=rng.integers(0, len(CURRENCIES), n),
        extra={
            "id": _ids(1, n + 1),
            "title": _company_names(rng, n),
            "source": SOURCES[rng.integers(0, len(SOURCES), n)],
            "price": _money(rng.integers(100_001, 500_000, n)),
            "is_active": _bools(rng.random(n) < 0.6),
            "last_modified_timestamp": dates[np.minimum(modified, SPAN_DAYS - 1)],
        },
    )


def _company_names(rng: np.random.Generator, n: int) -> list[str]:
    """Faker-style company names: 'Gibson, Delgado and Austin', 'Kelley-Johnson', 'Riley Inc'."""
    names = _lookup(SURNAMES)
    a, b, c = (names[rng.integers(0, len(names), n)].tolist() for _ in range(3))
    kind = rng.integers(0, 3, n).tolist()
    suffix = _lookup(COMPANY_SUFFIXES)[rng.integers(0, len(COMPANY_SUFFIXES), n)].tolist()
    return [
        f"{x}, {y} and {z}" if k == 0 else f"{x}-{y}" if k == 1 else f"{x} {s}"
        for x, y, z, k, s in zip(a, b, c, kind, suffix, strict=True)
    ]


def _attributes(rng: np.random.Generator, counts: Counts) -> dict[str, object]:
    n_apartments = counts.apartments
    missing = rng.choice(n_apartments, counts.missing_attributes, replace=False) + 1
    ids = np.concatenate([
        np.setdiff1d(np.arange(1, n_apartments + 1), missing),
        np.arange(n_apartments + 1, n_apartments + 1 + counts.orphan_attributes),
    ])  # fmt: skip
    n = len(ids)
    pets = _bools(rng.random(n) < 0.5)
    pets[rng.random(n) < PETS_NULL_SHARE] = ""
    return {
        "id": _texts(ids),
        "category": CATEGORIES[rng.integers(0, len(CATEGORIES), n)],
        "body": _paragraphs(rng, n),
        "amenities": _amenities(rng, n),
        "bathrooms": _texts(rng.integers(1, 4, n)),
        "bedrooms": _texts(rng.integers(1, 4, n)),
        "fee": _money(rng.integers(5_000, 50_001, n)),
        "has_photo": _bools(rng.random(n) < 0.5),
        "pets_allowed": pets,
        "price_display": ["$" + p for p in _money(rng.integers(100_001, 500_000, n))],
        "price_type": PRICE_TYPES[rng.integers(0, len(PRICE_TYPES), n)],
        "square_feet": _texts(rng.integers(500, 3001, n)),
        "address": _addresses(rng, n),
        # Randomly paired, as in the lab data (e.g. New York, California).
        "cityname": CITIES[rng.integers(0, len(CITIES), n)],
        "state": STATES[rng.integers(0, len(STATES), n)],
        "latitude": _fixed(rng.integers(-90_000_000, 90_000_001, n), 6),
        "longitude": _fixed(rng.integers(-180_000_000, 180_000_001, n), 6),
    }


def _paragraphs(rng: np.random.Generator, n: int) -> list[str]:
    words = _lookup(WORDS)
    pool = []
    for length in rng.integers(4, 10, 3000).tolist():
        sentence = " ".join(words[rng.integers(0, len(words), length)].tolist())
        pool.append(sentence[0].upper() + sentence[1:] + ".")
    picks = rng.integers(0, len(pool), (n, 4)).tolist()
    sizes = rng.integers(1, 5, n).tolist()
    return [" ".join(pool[j] for j in row[:k]) for row, k in zip(picks, sizes, strict=True)]


def _amenities(rng: np.random.Generator, n: int) -> np.ndarray:
    pool = []
    for size in rng.integers(1, 4, 400).tolist():
        chosen = rng.choice(len(AMENITIES), size, replace=False).tolist()
        pool.append(", ".join(AMENITIES[i] for i in chosen))
    return _lookup(pool)[rng.integers(0, len(pool), n)]


def _addresses(rng: np.random.Generator, n: int) -> list[str]:
    """'92525 Holt Turnpike Lake Keith, KY 50153'-style street addresses."""
    towns = [
        pattern.format(first=f, last=last)
        for f, last in zip(FIRST_NAMES * 3, SURNAMES, strict=False)
        for pattern in ("Lake {first}", "New {first}land", "{last}fort", "Port {last}", "East {first}")
    ]  # fmt: skip
    number = rng.integers(1, 100_000, n).tolist()
    street = _lookup(SURNAMES)[rng.integers(0, len(SURNAMES), n)].tolist()
    suffix = _lookup(STREET_SUFFIXES)[rng.integers(0, len(STREET_SUFFIXES), n)].tolist()
    apt = np.where(rng.random(n) < 0.2, rng.integers(1, 1000, n), 0).tolist()
    town = _lookup(towns)[rng.integers(0, len(towns), n)].tolist()
    code = _lookup(STATE_CODES)[rng.integers(0, len(STATE_CODES), n)].tolist()
    zipcode = rng.integers(501, 99_951, n).tolist()
    return [
        f"{a} {b} {c}{f' Apt. {d}' if d else ''} {e}, {f} {g:05d}"
        for a, b, c, d, e, f, g in zip(
            number, street, suffix, apt, town, code, zipcode, strict=True
        )
    ]


def _bookings(
    rng: np.random.Generator, counts: Counts, listings: _Listings, dates: np.ndarray
) -> dict[str, object]:
    n = counts.bookings
    users = rng.integers(1, counts.users + 1, n)
    # Popular listings: a fifth of the listings draws about 60% of the bookings.
    popular = rng.random(n) < 0.6
    apartment = np.where(
        popular,
        rng.integers(1, max(2, listings.n // 5) + 1, n),
        rng.integers(1, listings.n + 1, n),
    )
    # Realistic stays: booked 0..90 days ahead, 1..21 nights (mostly short), after the
    # listing was created, all inside the date range.
    lead = rng.integers(0, 91, n)
    nights = np.minimum(1 + rng.geometric(0.25, n), 21)
    latest = SPAN_DAYS - 1 - lead - nights
    earliest = np.minimum(listings.created[apartment - 1], latest)
    booked = earliest + (rng.random(n) * (latest - earliest + 1)).astype(np.int64)

    # Repeat customers: the same user books again 0..30 days after an earlier booking,
    # a fifth of them on the same day.
    repeat = rng.random(n) < REPEAT_SHARE
    earlier = rng.integers(0, n, n)
    gap = np.where(rng.random(n) < 0.2, 0, rng.integers(1, 31, n))
    users = np.where(repeat, users[earlier], users)
    booked = np.where(repeat, np.minimum(booked[earlier] + gap, latest), booked)

    checkin = booked + lead
    # Overlapping stays: another booking of the same listing, shifted by -3..3 days.
    overlap = (rng.random(n) < OVERLAP_SHARE) & ~repeat
    other = rng.integers(0, n, n)
    shifted = np.clip(checkin[other] + rng.integers(-3, 4, n), lead, SPAN_DAYS - 1 - nights)
    apartment = np.where(overlap, apartment[other], apartment)
    checkin = np.where(overlap, shifted, checkin)
    booked = np.where(overlap, checkin - lead, booked)
    checkout = checkin + nights

    currency = listings.currency[apartment - 1]
    # Lab-style rows: three unrelated random dates, any user, listing and currency.
    lab = rng.random(n) < LAB_STYLE_BOOKINGS_SHARE
    lab[:2] = True  # guaranteed even at tiny scales
    booked = np.where(lab, rng.integers(0, SPAN_DAYS, n), booked)
    checkin = np.where(lab, rng.integers(0, SPAN_DAYS, n), checkin)
    checkout = np.where(lab, rng.integers(0, SPAN_DAYS, n), checkout)
    apartment = np.where(lab, rng.integers(1, listings.n + 1, n), apartment)
    currency = np.where(lab, rng.integers(0, len(CURRENCIES), n), currency)

    # Unknown listings: ids just past the last apartment (late-arriving or never sent).
    unknown = rng.random(n) < UNKNOWN_LISTING_SHARE
    unknown[-1] = True
    unknown_span = max(10, listings.n // 100)
    apartment = np.where(unknown, listings.n + rng.integers(1, unknown_span + 1, n), apartment)

    status = STATUSES[rng.choice(3, n, p=[0.6, 0.2, 0.2])]
    variant = rng.random(n) < STATUS_VARIANT_SHARE
    variant[-2:] = True
    status[variant] = STATUS_VARIANTS[rng.integers(0, len(STATUS_VARIANTS), variant.sum())]

    return {
        "booking_id": _ids(1, n + 1),
        "user_id": _texts(users),
        "apartment_id": _texts(apartment),
        "booking_date": dates[booked],
        "checkin_date": dates[checkin],
        "checkout_date": dates[checkout],
        "total_price": _money(rng.integers(100_004, 500_001, n)),
        "currency": CURRENCIES[currency],
        "booking_status": status,
    }


def _views(rng: np.random.Generator, counts: Counts, dates: np.ndarray) -> dict[str, object]:
    """Random views, unique by the table's primary key (user, apartment, day)."""
    n = counts.user_viewing
    draw = n + n // 50 + 10  # spare rows for the (rare) repeated keys
    users = rng.integers(1, counts.users + 1, draw)
    apartments = rng.integers(1, counts.apartments + 1, draw)
    viewed = rng.integers(0, SPAN_DAYS, draw)
    key = (users * (counts.apartments + 1) + apartments) * SPAN_DAYS + viewed
    _, first = np.unique(key, return_index=True)
    keep = np.sort(first)[:n]
    return {
        "user_id": _texts(users[keep]),
        "apartment_id": _texts(apartments[keep]),
        "viewed_at": dates[viewed[keep]],
        "is_wishlisted": _bools(rng.random(draw)[keep] < 0.3),
        "call_to_action": CALLS_TO_ACTION[rng.integers(0, len(CALLS_TO_ACTION), draw)[keep]],
    }
