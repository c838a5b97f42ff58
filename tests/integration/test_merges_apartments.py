"""The curated merges of the apartments domain (redshift/merges/*.sql) on the real local warehouse.

Each test writes a few literal stg_* rows, runs the curate step (every merge file, in order) and
compares whole curated rows with hand-computed ones.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from rental_analytics.jobs.curate import curated_writes, merge_target
from rental_analytics.warehouse.sqltext import split_statements
from tests.support.warehouse_rows import (
    MERGE_FILES,
    delete_stg,
    put_stg_apartment,
    put_stg_attributes,
    put_stg_booking,
    put_stg_view,
    rows,
    run_merges,
    snapshot,
)

LISTING_COLUMNS = (
    "select listing_id, title, price, currency, listing_created_on, is_active, last_modified_at,"
    " category, bedrooms, cityname, state"
    " from curated.dim_listings order by listing_id"
)
BOOKINGS = "select * from curated.fact_bookings order by booking_id"
VIEWS = "select * from curated.fact_user_views order by user_id, listing_id, viewed_at"
USERS = "select * from curated.dim_users order by user_id"


def _small_marketplace(wh) -> None:
    put_stg_apartment(
        wh,
        1,
        price="100.00",
        currency=" usd ",
        last_modified_timestamp=datetime(2024, 1, 2, 10, 0),
    )
    put_stg_attributes(wh, 1, cityname="Austin", state="TX", bedrooms=2)
    put_stg_apartment(wh, 2, price="80.50", currency="eur")  # no attributes row
    put_stg_booking(
        wh,
        10,
        user_id=5,
        apartment_id=1,
        booking_date=date(2024, 1, 2),
        checkin_date=date(2024, 1, 5),
        checkout_date=date(2024, 1, 8),
        total_price="300.00",
        currency=" usd",
    )
    put_stg_booking(
        wh,
        11,
        user_id=6,
        apartment_id=2,
        booking_date=date(2024, 1, 2),
        checkin_date=date(2024, 1, 5),
        checkout_date=date(2024, 1, 6),
        booking_status="canceled",
    )
    put_stg_view(wh, user_id=5, apartment_id=1, viewed_at=datetime(2024, 1, 1), is_wishlisted=True)
    put_stg_view(wh, user_id=7, apartment_id=2, viewed_at=datetime(2024, 1, 3), is_wishlisted=False)


def test_merges_build_the_curated_tables(warehouse):
    _small_marketplace(warehouse)

    run_merges(warehouse)

    assert rows(warehouse, LISTING_COLUMNS) == [
        (
            1,
            "Apartment 1",
            Decimal("100.00"),
            "USD",
            date(2024, 1, 1),
            True,
            datetime(2024, 1, 2, 10, 0),
            "housing/rent/apartment",
            2,
            "Austin",
            "TX",
        ),
        # A listing without attributes is kept, its attribute columns NULL.
        (
            2,
            "Apartment 2",
            Decimal("80.50"),
            "EUR",
            date(2024, 1, 1),
            True,
            datetime(2024, 1, 1),
            None,
            None,
            None,
            None,
        ),
    ]
    assert rows(warehouse, BOOKINGS) == [
        (
            10,
            1,
            5,
            date(2024, 1, 2),
            date(2024, 1, 5),
            date(2024, 1, 8),
            3,
            Decimal("300.00"),
            "USD",
        ),
    ]
    assert rows(warehouse, VIEWS) == [
        (5, 1, datetime(2024, 1, 1), date(2024, 1, 1), True, "contact_owner"),
        (7, 2, datetime(2024, 1, 3), date(2024, 1, 3), False, "contact_owner"),
    ]
    # User 6 only has a canceled booking: not a user of the curated layer.
    assert rows(warehouse, USERS) == [
        (5, 1, 1, datetime(2024, 1, 1), datetime(2024, 1, 1), 1),
        (7, 1, 0, datetime(2024, 1, 3), datetime(2024, 1, 3), 0),
    ]


def test_merges_are_idempotent(warehouse):
    _small_marketplace(warehouse)
    run_merges(warehouse)
    first = snapshot(warehouse)

    run_merges(warehouse)

    assert snapshot(warehouse) == first
    assert all(first.values()), "every curated table should hold rows in this scenario"


def _merged_rows(wh) -> dict[str, int]:
    """Each merge file run once more: the rows it wrote (its MERGE, or the INSERT that
    fills an empty table), by curated table."""
    return {
        merge_target(path): curated_writes(
            split_statements(path.read_text()), wh.run_file(path), merge_target(path)
        )[1]
        for path in MERGE_FILES
    }


def test_a_rerun_writes_only_the_rows_that_changed(warehouse):
    # Unchanged rows are not rewritten (on Redshift a rewritten row is a dead row to vacuum).
    _small_marketplace(warehouse)
    first = _merged_rows(warehouse)
    assert first["dim_listings"] == 2 and first["fact_user_views"] == 2

    assert set(_merged_rows(warehouse).values()) == {0}

    put_stg_apartment(  # one listing's price changes; a NULL column stays NULL
        warehouse,
        2,
        price="81.00",
        currency="eur",
    )
    again = _merged_rows(warehouse)
    assert again["dim_listings"] == 1
    assert again["fact_user_views"] == again["fact_bookings"] == 0
    assert rows(warehouse, "select price from curated.dim_listings where listing_id = 2") == [
        (Decimal("81.00"),)
    ]


def test_an_empty_table_is_filled_with_the_rows_the_merge_would_write(warehouse):
    # An empty curated table is filled by one INSERT (a new warehouse's first run); the
    # same rows through the comparison and MERGE: all but one row of each table deleted,
    # and the merges' ledger emptied so that they compare every key.
    _small_marketplace(warehouse)
    inserted = _merged_rows(warehouse)
    assert inserted["dim_listings"] == 2 and inserted["fact_user_views"] == 2
    first = snapshot(warehouse)
    for table in ("dim_listings", "fact_bookings", "fact_user_views"):
        warehouse.execute(
            f"delete from curated.{table} where ctid <> (select min(ctid) from curated.{table})"
        )
    warehouse.execute("delete from raw_data.curated_batches")
    merged = _merged_rows(warehouse)
    assert snapshot(warehouse) == first
    assert merged["dim_listings"] == merged["fact_user_views"] == 1


def test_booking_that_stops_being_confirmed_leaves_the_fact(warehouse):
    booking = dict(
        user_id=5,
        apartment_id=1,
        booking_date=date(2024, 2, 1),
        checkin_date=date(2024, 2, 10),
        checkout_date=date(2024, 2, 12),
    )
    put_stg_apartment(warehouse, 1)
    put_stg_view(warehouse, user_id=5, apartment_id=1, viewed_at=datetime(2024, 2, 1))
    put_stg_booking(warehouse, 40, **booking, booking_status="confirmed")
    run_merges(warehouse)
    assert [r[0] for r in rows(warehouse, BOOKINGS)] == [40]
    assert rows(warehouse, USERS) == [(5, 1, 0, datetime(2024, 2, 1), datetime(2024, 2, 1), 1)]

    put_stg_booking(warehouse, 40, **booking, booking_status="canceled")
    run_merges(warehouse)

    assert rows(warehouse, BOOKINGS) == []
    assert rows(warehouse, USERS) == [(5, 1, 0, datetime(2024, 2, 1), datetime(2024, 2, 1), 0)]


def test_status_is_compared_trimmed_and_case_insensitively(warehouse):
    statuses = {
        20: "confirmed",
        21: " Confirmed ",
        22: "CONFIRMED",
        23: "pending",
        24: "canceled",
        25: None,
        26: "confirmed.",
    }
    for booking_id, status in statuses.items():
        put_stg_booking(
            warehouse,
            booking_id,
            user_id=1,
            apartment_id=1,
            booking_date=date(2024, 3, 1),
            checkin_date=date(2024, 3, 2),
            checkout_date=date(2024, 3, 3),
            booking_status=status,
        )

    run_merges(warehouse)

    assert [r[0] for r in rows(warehouse, BOOKINGS)] == [20, 21, 22]


def test_stays_without_a_positive_length_are_excluded(warehouse):
    stays = {
        30: (date(2024, 3, 5), date(2024, 3, 5)),  # checkout = checkin
        31: (date(2024, 3, 5), date(2024, 3, 4)),  # checkout before checkin
        32: (None, date(2024, 3, 6)),
        33: (date(2024, 3, 5), None),
        34: (date(2024, 3, 31), date(2024, 4, 1)),  # one night across a month end
        35: (date(2024, 2, 28), date(2024, 3, 1)),  # leap day: two nights
    }
    for booking_id, (checkin, checkout) in stays.items():
        put_stg_booking(
            warehouse,
            booking_id,
            user_id=1,
            apartment_id=1,
            booking_date=date(2024, 2, 1),
            checkin_date=checkin,
            checkout_date=checkout,
        )

    run_merges(warehouse)

    assert rows(warehouse, "select booking_id, nights from curated.fact_bookings order by 1") == [
        (34, 1),
        (35, 2),
    ]


def test_rows_that_leave_stg_leave_curated(warehouse):
    _small_marketplace(warehouse)
    run_merges(warehouse)

    delete_stg(warehouse, "stg_apartments", id=2)
    delete_stg(
        warehouse, "stg_user_viewing", user_id=7, apartment_id=2, viewed_at=datetime(2024, 1, 3)
    )
    delete_stg(warehouse, "stg_bookings", booking_id=10)
    run_merges(warehouse)

    assert [r[0] for r in rows(warehouse, LISTING_COLUMNS)] == [1]
    assert rows(warehouse, BOOKINGS) == []
    assert rows(warehouse, VIEWS) == [
        (5, 1, datetime(2024, 1, 1), date(2024, 1, 1), True, "contact_owner"),
    ]
    assert rows(warehouse, USERS) == [(5, 1, 1, datetime(2024, 1, 1), datetime(2024, 1, 1), 0)]


def test_price_update_replaces_the_old_price(warehouse):
    # 2024-03-01 is a Friday: week starting Monday 2024-02-26.
    put_stg_apartment(warehouse, 1, price="100.00", listing_created_on=date(2024, 3, 1))
    run_merges(warehouse)
    assert rows(warehouse, "select * from presentation.vw_avg_listing_price_weekly") == [
        (date(2024, 2, 26), "USD", 1, Decimal("100.00")),
    ]

    put_stg_apartment(
        warehouse,
        1,
        price="120.00",
        listing_created_on=date(2024, 3, 1),
        last_modified_timestamp=datetime(2024, 3, 5),
    )
    run_merges(warehouse)

    assert rows(
        warehouse, "select listing_id, price, last_modified_at from curated.dim_listings"
    ) == [
        (1, Decimal("120.00"), datetime(2024, 3, 5)),
    ]
    assert rows(warehouse, "select * from presentation.vw_avg_listing_price_weekly") == [
        (date(2024, 2, 26), "USD", 1, Decimal("120.00")),
    ]


def test_late_arriving_listing_is_attributed_once_it_arrives(warehouse):
    put_stg_booking(
        warehouse,
        50,
        user_id=5,
        apartment_id=7,
        booking_date=date(2024, 3, 1),
        checkin_date=date(2024, 3, 4),
        checkout_date=date(2024, 3, 6),
        total_price="250.00",
    )
    run_merges(warehouse)

    assert rows(warehouse, "select booking_id, listing_id from curated.fact_bookings") == [(50, 7)]
    assert rows(warehouse, "select * from presentation.vw_popular_locations_weekly") == []
    assert rows(warehouse, "select * from presentation.vw_occupancy_rate_monthly") == []
    assert rows(warehouse, "select * from presentation.vw_top_listings_weekly") == [
        (date(2024, 2, 26), "USD", 7, 1, Decimal("250.00"), 1),
    ]

    put_stg_apartment(warehouse, 7, listing_created_on=date(2024, 3, 1))
    put_stg_attributes(warehouse, 7, cityname="Denver", state="CO")
    run_merges(warehouse)

    assert rows(warehouse, "select * from presentation.vw_popular_locations_weekly") == [
        (date(2024, 2, 26), "Denver", "CO", 1, 1),
    ]
    # March: 31 available nights of listing 7, 2 booked (the 4th and 5th); 2 / 31 = 0.06451...
    assert rows(warehouse, "select * from presentation.vw_occupancy_rate_monthly") == [
        (date(2024, 3, 1), 31, 2, Decimal("0.0645")),
    ]


def test_dim_users_counts_views_wishlists_and_confirmed_bookings(warehouse):
    put_stg_view(
        warehouse, user_id=1, apartment_id=1, viewed_at=datetime(2024, 1, 1, 9), is_wishlisted=True
    )
    put_stg_view(
        warehouse, user_id=1, apartment_id=2, viewed_at=datetime(2024, 1, 5, 12), is_wishlisted=True
    )
    put_stg_view(
        warehouse, user_id=1, apartment_id=1, viewed_at=datetime(2024, 1, 3), is_wishlisted=False
    )
    put_stg_view(
        warehouse, user_id=3, apartment_id=1, viewed_at=datetime(2024, 1, 2), is_wishlisted=None
    )
    bookings = [
        (60, 1, "confirmed"),
        (61, 1, "confirmed"),
        (62, 1, "canceled"),
        (63, 2, "confirmed"),
        (64, None, "confirmed"),
        (65, 4, "pending"),
    ]
    for booking_id, user_id, status in bookings:
        put_stg_booking(
            warehouse,
            booking_id,
            user_id=user_id,
            apartment_id=1,
            booking_date=date(2024, 1, 1),
            checkin_date=date(2024, 1, 2),
            checkout_date=date(2024, 1, 4),
            booking_status=status,
        )

    run_merges(warehouse)

    assert rows(warehouse, USERS) == [
        (1, 3, 2, datetime(2024, 1, 1, 9), datetime(2024, 1, 5, 12), 2),
        (2, 0, 0, None, None, 1),
        (3, 1, 0, datetime(2024, 1, 2), datetime(2024, 1, 2), 0),
    ]
    first = snapshot(warehouse)
    run_merges(warehouse)
    assert snapshot(warehouse) == first
