"""Specs of the source tables: columns, keys and how each is extracted incrementally.

A spec is the single description of a source table that extraction, loading and quality
rules share. Column types are logical; each engine maps them in one place (the source DDL
in ``rental_db.sql``, the warehouse DDL under ``redshift/ddl``, Spark in ``spark_type``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rental_analytics.config import validate_identifier


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # int | bigint | string | text | decimal(p,s) | date | timestamp | boolean | double
    nullable: bool = True

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
    rules: tuple[str, ...] = field(default=())

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

TABLES_BY_DOMAIN: dict[str, tuple[TableSpec, ...]] = {"apartments": APARTMENTS_TABLES}


def all_tables() -> tuple[TableSpec, ...]:
    return tuple(t for tables in TABLES_BY_DOMAIN.values() for t in tables)


def get_table(name: str) -> TableSpec:
    for t in all_tables():
        if t.name == name:
            return t
    known = ", ".join(t.name for t in all_tables())
    raise KeyError(f"unknown table {name!r} (known: {known})")
