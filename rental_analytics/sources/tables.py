"""Specs of the source tables: columns, keys and how each is extracted incrementally.

A spec is the single description of a source table that extraction, loading and quality
rules share. Column types are logical; each engine maps them in one place (the source DDL
in ``rental_db.sql``, the warehouse DDL under ``redshift/migrations``, Spark in ``spark_type``).
"""

from __future__ import annotations

from dataclasses import dataclass

from rental_analytics.config import validate_identifier
from rental_analytics.sources.formats import ANY_DATE, DAY_FIRST, YEAR_FIRST


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # int | bigint | string | text | decimal(p,s) | date | timestamp | boolean | double
    nullable: bool = True
    # Text layouts accepted when the column is parsed from a landed CSV (date, timestamp).
    formats: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        validate_identifier(self.name, "column name")


@dataclass(frozen=True)
class TableSpec:
    """One source table.

    ``bookmark_keys`` grow over time (Glue's ``jobBookmarkKeys``); rows with a key beyond the
    committed bookmark are new. Updated rows are found through ``modified_column`` (rows
    modified on or after the committed watermark), through ``lookback_column`` (rows dated
    within N days of the run date) or, for a child table without either, through its
    parent's modification column (``parent``: ``(table, join column)``).
    """

    name: str
    domain: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...]
    bookmark_keys: tuple[str, ...]
    bookmark_sort: str = "asc"
    bookmark_inclusive: bool = False
    modified_column: str | None = None
    lookback_column: str | None = None
    parent: tuple[str, str] | None = None
    partition_column: str | None = None
    # Landed CSV tables: the landing prefix (S3 prefix in AWS, folder under
    # $RENTALS_HOME/landing locally) and the lab file names that land there.
    landing_prefix: str | None = None
    file_names: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        validate_identifier(self.name, "table name")
        names = self.column_names
        for col in (*self.primary_key, *self.bookmark_keys):
            if col not in names:
                raise ValueError(f"{self.name}: key column {col!r} is not a column")
        if self.bookmark_sort not in ("asc", "desc"):
            raise ValueError(f"{self.name}: bookmark sort order must be asc or desc")

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def is_landed(self) -> bool:
        """Rows arrive as CSV files in a landing prefix (not over JDBC)."""
        return self.landing_prefix is not None

    @property
    def stg_table(self) -> str:
        return f"stg_{self.name}"

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"{self.name} has no column {name!r}")


APARTMENTS = TableSpec(
    name="apartments",
    domain="apartments",
    columns=(
        Column("id", "int", nullable=False),
        Column("title", "string"),
        Column("source", "string"),
        Column("price", "decimal(10,2)"),
        Column("currency", "string"),
        Column("listing_created_on", "date"),
        Column("is_active", "boolean"),
        Column("last_modified_timestamp", "timestamp"),
    ),
    primary_key=("id",),
    bookmark_keys=("id",),
    modified_column="last_modified_timestamp",
    partition_column="id",
)

APARTMENT_ATTRIBUTES = TableSpec(
    name="apartment_attributes",
    domain="apartments",
    columns=(
        Column("id", "int", nullable=False),
        Column("category", "string"),
        Column("body", "text"),
        Column("amenities", "string"),
        Column("bathrooms", "int"),
        Column("bedrooms", "int"),
        Column("fee", "decimal(10,2)"),
        Column("has_photo", "boolean"),
        Column("pets_allowed", "boolean"),
        Column("price_display", "string"),
        Column("price_type", "string"),
        Column("square_feet", "int"),
        Column("address", "string"),
        Column("cityname", "string"),
        Column("state", "string"),
        Column("latitude", "decimal(9,6)"),
        Column("longitude", "decimal(9,6)"),
    ),
    primary_key=("id",),
    bookmark_keys=("id",),
    # No modification column of its own: attributes are part of the listing, so they are
    # re-extracted whenever their apartment row is.
    parent=("apartments", "id"),
    partition_column="id",
)

BOOKINGS = TableSpec(
    name="bookings",
    domain="apartments",
    columns=(
        Column("booking_id", "int", nullable=False),
        Column("user_id", "int"),
        Column("apartment_id", "int"),
        Column("booking_date", "date"),
        Column("checkin_date", "date"),
        Column("checkout_date", "date"),
        Column("total_price", "decimal(10,2)"),
        Column("currency", "string"),
        Column("booking_status", "string"),
    ),
    primary_key=("booking_id",),
    bookmark_keys=("booking_id",),
    lookback_column="booking_date",
    partition_column="booking_id",
)

USER_VIEWING = TableSpec(
    name="user_viewing",
    domain="apartments",
    columns=(
        Column("user_id", "int", nullable=False),
        Column("apartment_id", "int", nullable=False),
        Column("viewed_at", "timestamp", nullable=False),
        Column("is_wishlisted", "boolean"),
        Column("call_to_action", "string"),
    ),
    primary_key=("user_id", "apartment_id", "viewed_at"),
    # The primary key does not grow and viewed_at is date-only in the exports: bookmark on
    # viewed_at inclusively (the last day is read again) and deduplicate by key on load.
    bookmark_keys=("viewed_at",),
    bookmark_inclusive=True,
    partition_column="user_id",
)

APARTMENTS_TABLES: tuple[TableSpec, ...] = (
    APARTMENTS,
    APARTMENT_ATTRIBUTES,
    BOOKINGS,
    USER_VIEWING,
)

# -- vehicle rentals: CSV files landed under a prefix per table ------------------------------
# Lab layouts: rental_analytics/sources/formats.py

VEHICLES = TableSpec(
    name="vehicles",
    domain="vehicle_rentals",
    columns=(
        Column("active", "boolean"),
        Column("vehicle_license_number", "string"),
        Column("registration_name", "string"),
        Column("license_type", "string"),
        Column("expiration_date", "date", formats=(*DAY_FIRST, *YEAR_FIRST)),
        Column("permit_license_number", "string"),
        Column("certification_date", "date", formats=ANY_DATE),
        Column("vehicle_year", "int"),
        Column("base_telephone_number", "string"),
        Column("base_address", "string"),
        Column("vehicle_id", "string", nullable=False),
        Column("last_update_timestamp", "timestamp", formats=(*DAY_FIRST, *YEAR_FIRST)),
        Column("brand", "string"),
        Column("vehicle_type", "string"),
    ),
    primary_key=("vehicle_id",),
    bookmark_keys=(),
    # The latest version of a vehicle wins by last_update_timestamp, whatever file it is in.
    modified_column="last_update_timestamp",
    landing_prefix="vehicles",
    file_names=("vehicles.csv",),
)

LOCATIONS = TableSpec(
    name="locations",
    domain="vehicle_rentals",
    columns=(
        Column("location_id", "int", nullable=False),
        Column("location_name", "string"),
        Column("address", "string"),
        Column("city", "string"),
        Column("state", "string"),
        Column("zip_code", "string"),  # text: zip codes keep their leading zeros
        Column("latitude", "double"),
        Column("longitude", "double"),
    ),
    primary_key=("location_id",),
    bookmark_keys=(),
    landing_prefix="locations",
    file_names=("locations.csv", "location.csv"),
)

RENTAL_USERS = TableSpec(
    name="rental_users",
    domain="vehicle_rentals",
    columns=(
        Column("user_id", "string", nullable=False),
        Column("first_name", "string"),
        Column("last_name", "string"),
        Column("email", "string"),
        Column("phone_number", "string"),
        Column("driver_license_number", "string"),
        Column("driver_license_expiry", "date", formats=ANY_DATE),
        Column("creation_date", "date", formats=ANY_DATE),
        Column("is_active", "boolean"),
    ),
    primary_key=("user_id",),
    bookmark_keys=(),
    landing_prefix="users",
    file_names=("users.csv",),
)

RENTAL_TRANSACTIONS = TableSpec(
    name="rental_transactions",
    domain="vehicle_rentals",
    columns=(
        Column("rental_id", "string", nullable=False),
        Column("user_id", "string"),
        Column("vehicle_id", "string"),
        Column("rental_start_time", "timestamp", formats=ANY_DATE),
        Column("rental_end_time", "timestamp", formats=ANY_DATE),
        Column("pickup_location", "int"),
        Column("dropoff_location", "int"),
        # Four decimals: amounts are kept as given; KPIs round money to 2 decimals.
        Column("total_amount", "decimal(14,4)"),
    ),
    primary_key=("rental_id",),
    bookmark_keys=(),
    landing_prefix="rental_transactions",
    file_names=("rental_transactions.csv",),
)

VEHICLE_RENTALS_TABLES: tuple[TableSpec, ...] = (
    VEHICLES,
    LOCATIONS,
    RENTAL_USERS,
    RENTAL_TRANSACTIONS,
)

TABLES_BY_DOMAIN: dict[str, tuple[TableSpec, ...]] = {
    "apartments": APARTMENTS_TABLES,
    "vehicle_rentals": VEHICLE_RENTALS_TABLES,
}


def all_tables() -> tuple[TableSpec, ...]:
    return tuple(t for tables in TABLES_BY_DOMAIN.values() for t in tables)


def get_table(name: str) -> TableSpec:
    for t in all_tables():
        if t.name == name:
            return t
    known = ", ".join(t.name for t in all_tables())
    raise KeyError(f"unknown table {name!r} (known: {known})")
