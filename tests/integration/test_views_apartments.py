"""The apartments-domain KPI views (redshift/views/*.sql) on the real local warehouse.

Each test inserts a few literal curated rows and compares the whole view with rows computed by
hand (the arithmetic is in the comments). Calendar used below: 2024-01-01 is a Monday, so
2024-01-07 and 2024-01-14 are Sundays; February 2024 has 29 days.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from tests.support.warehouse_rows import (
    BIGINT,
    DATE,
    INTEGER,
    MONEY,
    RATE,
    TEXT,
    add_booking,
    add_listing,
    rows,
    view_columns,
)


def test_avg_listing_price_weekly(warehouse):
    listings = [
        # (listing_id, created_on, price, currency, is_active)
        (1, date(2024, 1, 7), "2.34", "USD", True),  # Sunday: week of Mon 2024-01-01
        (2, date(2024, 1, 1), "2.35", "USD", True),
        (3, date(2024, 1, 8), "500.00", "USD", True),  # Monday: a new week
        (4, date(2024, 1, 3), "90.00", "EUR", True),
        (5, date(2024, 1, 5), "10.01", "EUR", True),
        (6, date(2024, 1, 4), None, "USD", True),  # counted, no price to average
        (7, date(2024, 1, 3), "1000.00", "USD", False),  # inactive
        (8, date(2024, 1, 2), "7.00", "USD", None),  # activity unknown: not active
        (9, None, "3.00", "USD", True),  # no creation date: no week
    ]
    for listing_id, created_on, price, currency, is_active in listings:
        add_listing(
            warehouse,
            listing_id,
            listing_created_on=created_on,
            price=price,
            currency=currency,
            is_active=is_active,
        )

    assert rows(
        warehouse, "select * from presentation.vw_avg_listing_price_weekly order by 1, 2"
    ) == [
        # (90.00 + 10.01) / 2 = 50.005 -> 50.01 half-up (truncation or half-even: 50.00)
        (date(2024, 1, 1), "EUR", 2, Decimal("50.01")),
        # (2.34 + 2.35) / 2 = 2.345 -> 2.35 half-up (truncation or half-even: 2.34)
        (date(2024, 1, 1), "USD", 3, Decimal("2.35")),
        (date(2024, 1, 8), "USD", 1, Decimal("500.00")),
    ]


def test_occupancy_rate_monthly(warehouse):
    add_listing(warehouse, 1, listing_created_on=date(2024, 1, 1))
    add_listing(warehouse, 2, listing_created_on=date(2024, 1, 21), is_active=False)
    add_listing(warehouse, 3, listing_created_on=None)
    add_listing(warehouse, 4, listing_created_on=date(2024, 2, 15))
    add_listing(warehouse, 5, listing_created_on=date(2024, 6, 1))
    assert rows(warehouse, "select * from presentation.vw_occupancy_rate_monthly") == []

    stays = [
        # (booking_id, listing_id, checkin, checkout)
        (101, 1, date(2023, 12, 28), date(2024, 1, 2)),  # only Jan 1 is on/after creation
        (102, 1, date(2024, 1, 10), date(2024, 1, 15)),
        (103, 1, date(2024, 1, 13), date(2024, 1, 20)),  # overlaps 102
        (104, 1, date(2024, 1, 13), date(2024, 1, 20)),  # same stay twice
        (105, 1, date(2024, 1, 11), date(2024, 1, 12)),  # inside 102
        (106, 1, date(2024, 1, 30), date(2024, 2, 3)),  # crosses the month end
        (107, 2, date(2024, 1, 18), date(2024, 1, 23)),  # listing 2 exists from Jan 21
        (108, 2, date(2024, 4, 29), date(2024, 5, 1)),  # checkout day is not a night
        (109, 3, date(2024, 5, 10), date(2024, 5, 12)),  # listing without creation date
        (110, 99, date(2024, 6, 1), date(2024, 6, 5)),  # listing unknown to dim_listings
    ]
    for booking_id, listing_id, checkin, checkout in stays:
        add_booking(
            warehouse,
            booking_id,
            listing_id=listing_id,
            checkin_date=checkin,
            checkout_date=checkout,
        )

    assert rows(warehouse, "select * from presentation.vw_occupancy_rate_monthly order by 1") == [
        # available: listing 1 31 + listing 2 11 (Jan 21..31) = 42
        # booked: listing 1 Jan 1 + Jan 10..19 (10) + Jan 30, 31 = 13; listing 2 Jan 21, 22 = 2
        # 15 / 42 = 0.357142...
        (date(2024, 1, 1), 42, 15, Decimal("0.3571")),
        # available: 29 + 29 + listing 4 15 (Feb 15..29) = 73; booked Feb 1, 2; 2 / 73 = 0.027397...
        (date(2024, 2, 1), 73, 2, Decimal("0.0274")),
        # no booked night in March, but it lies between booked months
        (date(2024, 3, 1), 93, 0, Decimal("0.0000")),
        # available 3 x 30 = 90; booked Apr 29, 30; 2 / 90 = 0.0222...
        (date(2024, 4, 1), 90, 2, Decimal("0.0222")),
    ]


def test_popular_locations_weekly(warehouse):
    cities = {
        1: ("Austin", "TX"),
        2: ("Boston", "MA"),
        3: ("Chicago", "IL"),
        4: ("Denver", "CO"),
        5: (None, "TX"),
        6: ("Austin", "TX"),  # a second listing in Austin
        7: ("Portland", "OR"),
        8: ("Portland", "ME"),  # same city name, another state
    }
    for listing_id, (cityname, state) in cities.items():
        add_listing(
            warehouse,
            listing_id,
            listing_created_on=date(2023, 1, 1),
            cityname=cityname,
            state=state,
        )
    bookings = [
        # (listing_id, booking_date)
        (1, date(2024, 1, 8)),
        (6, date(2024, 1, 14)),
        (1, date(2024, 1, 10)),
        (2, date(2024, 1, 9)),
        (2, date(2024, 1, 11)),
        (3, date(2024, 1, 12)),
        (3, date(2024, 1, 13)),
        (4, date(2024, 1, 14)),
        (7, date(2024, 1, 8)),
        (8, date(2024, 1, 9)),
        (5, date(2024, 1, 10)),  # NULL city: left out
        (5, date(2024, 1, 10)),
        (5, date(2024, 1, 10)),
        (99, date(2024, 1, 10)),  # unknown listing: left out
        (99, date(2024, 1, 10)),
        (99, date(2024, 1, 10)),
        (4, date(2024, 1, 7)),  # Sunday: previous week
        (4, date(2024, 1, 15)),  # Monday: next week
    ]
    for booking_id, (listing_id, booking_date) in enumerate(bookings, start=1):
        add_booking(
            warehouse,
            booking_id,
            listing_id=listing_id,
            booking_date=booking_date,
            checkin_date=date(2024, 3, 1),
            checkout_date=date(2024, 3, 2),
        )

    assert rows(
        warehouse, "select * from presentation.vw_popular_locations_weekly order by 1, 5, 2, 3"
    ) == [
        (date(2024, 1, 1), "Denver", "CO", 1, 1),
        (date(2024, 1, 8), "Austin", "TX", 3, 1),
        (date(2024, 1, 8), "Boston", "MA", 2, 2),
        (date(2024, 1, 8), "Chicago", "IL", 2, 2),
        (date(2024, 1, 8), "Denver", "CO", 1, 4),
        (date(2024, 1, 8), "Portland", "ME", 1, 4),
        (date(2024, 1, 8), "Portland", "OR", 1, 4),
        (date(2024, 1, 15), "Denver", "CO", 1, 1),
    ]


def test_popular_locations_keeps_ranks_up_to_ten(warehouse):
    # Cities 1..10 have two bookings each (all rank 1); city 11 has one (rank 11: left out).
    booking_id = 0
    for n in range(1, 12):
        add_listing(warehouse, n, listing_created_on=date(2023, 1, 1), cityname=f"City {n:02d}")
        for _ in range(2 if n <= 10 else 1):
            booking_id += 1
            add_booking(
                warehouse,
                booking_id,
                listing_id=n,
                booking_date=date(2024, 2, 7),
                checkin_date=date(2024, 3, 1),
                checkout_date=date(2024, 3, 2),
            )

    assert rows(warehouse, "select * from presentation.vw_popular_locations_weekly order by 2") == [
        (date(2024, 2, 5), "City 01", None, 2, 1),
        (date(2024, 2, 5), "City 02", None, 2, 1),
        (date(2024, 2, 5), "City 03", None, 2, 1),
        (date(2024, 2, 5), "City 04", None, 2, 1),
        (date(2024, 2, 5), "City 05", None, 2, 1),
        (date(2024, 2, 5), "City 06", None, 2, 1),
        (date(2024, 2, 5), "City 07", None, 2, 1),
        (date(2024, 2, 5), "City 08", None, 2, 1),
        (date(2024, 2, 5), "City 09", None, 2, 1),
        (date(2024, 2, 5), "City 10", None, 2, 1),
    ]


def test_top_listings_weekly(warehouse):
    bookings = [
        # (listing_id, booking_date, total_price, currency)
        (1, date(2024, 1, 8), "300.00", "USD"),
        (2, date(2024, 1, 9), "120.00", "USD"),
        (2, date(2024, 1, 14), "80.00", "USD"),  # Sunday: same week
        (3, date(2024, 1, 10), "200.00", "USD"),  # ties listing 2
        (4, date(2024, 1, 11), "50.00", "USD"),  # rank 4: rank 3 is skipped
        (5, date(2024, 1, 14), "1000.00", "EUR"),
        (1, date(2024, 1, 12), "40.00", "EUR"),  # listing 1 also earns EUR, kept apart
        (5, date(2024, 1, 15), "70.00", "EUR"),  # Monday: next week
        (None, date(2024, 1, 10), "5000.00", "USD"),  # no listing: left out
        # INR: listing 200 + n earns 10 x n; listing 201 ranks 11th and is left out.
        *[(200 + n, date(2024, 1, 9), f"{10 * n}.00", "INR") for n in range(1, 12)],
    ]
    for booking_id, (listing_id, booking_date, total_price, currency) in enumerate(
        bookings, start=1
    ):
        add_booking(
            warehouse,
            booking_id,
            listing_id=listing_id,
            booking_date=booking_date,
            checkin_date=date(2024, 3, 1),
            checkout_date=date(2024, 3, 2),
            total_price=total_price,
            currency=currency,
        )

    assert rows(
        warehouse, "select * from presentation.vw_top_listings_weekly order by 1, 2, 6, 3"
    ) == [
        (date(2024, 1, 8), "EUR", 5, 1, Decimal("1000.00"), 1),
        (date(2024, 1, 8), "EUR", 1, 1, Decimal("40.00"), 2),
        (date(2024, 1, 8), "INR", 211, 1, Decimal("110.00"), 1),
        (date(2024, 1, 8), "INR", 210, 1, Decimal("100.00"), 2),
        (date(2024, 1, 8), "INR", 209, 1, Decimal("90.00"), 3),
        (date(2024, 1, 8), "INR", 208, 1, Decimal("80.00"), 4),
        (date(2024, 1, 8), "INR", 207, 1, Decimal("70.00"), 5),
        (date(2024, 1, 8), "INR", 206, 1, Decimal("60.00"), 6),
        (date(2024, 1, 8), "INR", 205, 1, Decimal("50.00"), 7),
        (date(2024, 1, 8), "INR", 204, 1, Decimal("40.00"), 8),
        (date(2024, 1, 8), "INR", 203, 1, Decimal("30.00"), 9),
        (date(2024, 1, 8), "INR", 202, 1, Decimal("20.00"), 10),
        (date(2024, 1, 8), "USD", 1, 1, Decimal("300.00"), 1),
        (date(2024, 1, 8), "USD", 2, 2, Decimal("200.00"), 2),
        (date(2024, 1, 8), "USD", 3, 1, Decimal("200.00"), 2),
        (date(2024, 1, 8), "USD", 4, 1, Decimal("50.00"), 4),
        (date(2024, 1, 15), "EUR", 5, 1, Decimal("70.00"), 1),
    ]


def test_bookings_per_user_weekly(warehouse):
    bookings = [
        # (user_id, booking_date)
        (1, date(2024, 1, 7)),  # Sunday: week of 2024-01-01
        (1, date(2024, 1, 8)),  # Monday: week of 2024-01-08
        (1, date(2024, 1, 14)),  # Sunday: still week of 2024-01-08
        (2, date(2024, 1, 10)),
        (None, date(2024, 1, 10)),  # no user: left out
    ]
    for booking_id, (user_id, booking_date) in enumerate(bookings, start=1):
        add_booking(
            warehouse,
            booking_id,
            listing_id=1,
            user_id=user_id,
            booking_date=booking_date,
            checkin_date=date(2024, 3, 1),
            checkout_date=date(2024, 3, 2),
        )

    assert rows(
        warehouse, "select * from presentation.vw_bookings_per_user_weekly order by 1, 2"
    ) == [
        (date(2024, 1, 1), 1, 1),
        (date(2024, 1, 8), 1, 2),
        (date(2024, 1, 8), 2, 1),
    ]


def test_avg_booking_duration(warehouse):
    stays = [
        # January check-ins: seven 2-night stays and one 3-night stay crossing into February
        *[(date(2024, 1, 2 * n), date(2024, 1, 2 * n + 2)) for n in range(1, 8)],
        (date(2024, 1, 31), date(2024, 2, 3)),
        # February check-ins: 1 and 2 nights
        (date(2024, 2, 1), date(2024, 2, 2)),
        (date(2024, 2, 27), date(2024, 2, 29)),
        # March check-ins: 1, 2 and 2 nights
        (date(2024, 3, 1), date(2024, 3, 2)),
        (date(2024, 3, 5), date(2024, 3, 7)),
        (date(2024, 3, 30), date(2024, 4, 1)),
    ]
    for booking_id, (checkin, checkout) in enumerate(stays, start=1):
        add_booking(
            warehouse, booking_id, listing_id=1, checkin_date=checkin, checkout_date=checkout
        )

    assert rows(warehouse, "select * from presentation.vw_avg_booking_duration order by 1") == [
        # 17 / 8 = 2.125 -> 2.13 half-up (half-even: 2.12)
        (date(2024, 1, 1), 8, Decimal("2.13")),
        # 3 / 2 = 1.5 (an integer AVG would give 1)
        (date(2024, 2, 1), 2, Decimal("1.50")),
        # 5 / 3 = 1.666... -> 1.67 (truncation: 1.66)
        (date(2024, 3, 1), 3, Decimal("1.67")),
    ]


def test_repeat_customer_rate(warehouse):
    bookings = [
        # (user_id, booking_date)
        (1, date(2024, 1, 1)),
        (1, date(2024, 1, 31)),  # 30 days after: a repeat (in January)
        (2, date(2024, 1, 1)),
        (2, date(2024, 2, 1)),  # 31 days after: not a repeat
        (3, date(2024, 2, 10)),
        (3, date(2024, 2, 10)),  # same day: both are repeats
        (5, date(2024, 2, 25)),  # a later booking does not make this one a repeat
        (5, date(2024, 3, 5)),  # 9 days after, across the month end: a repeat in March
        (None, date(2024, 2, 20)),  # no user: left out
    ]
    for booking_id, (user_id, booking_date) in enumerate(bookings, start=1):
        add_booking(
            warehouse,
            booking_id,
            listing_id=1,
            user_id=user_id,
            booking_date=booking_date,
            checkin_date=date(2024, 4, 1),
            checkout_date=date(2024, 4, 2),
        )

    assert rows(warehouse, "select * from presentation.vw_repeat_customer_rate order by 1") == [
        # active {1, 2}, repeat {1}
        (date(2024, 1, 1), 2, 1, Decimal("0.5000")),
        # active {2, 3, 5}, repeat {3}: 1 / 3 = 0.3333...
        (date(2024, 2, 1), 3, 1, Decimal("0.3333")),
        # active {5}, repeat {5}
        (date(2024, 3, 1), 1, 1, Decimal("1.0000")),
    ]


@pytest.mark.parametrize(
    ("view", "columns"),
    [
        (
            "vw_avg_listing_price_weekly",
            [
                ("week_start", DATE),
                ("currency", TEXT),
                ("active_listings", BIGINT),
                ("avg_price", MONEY),
            ],
        ),
        (
            "vw_occupancy_rate_monthly",
            [
                ("month_start", DATE),
                ("available_nights", BIGINT),
                ("booked_nights", BIGINT),
                ("occupancy_rate", RATE),
            ],
        ),
        (
            "vw_popular_locations_weekly",
            [
                ("week_start", DATE),
                ("cityname", TEXT),
                ("state", TEXT),
                ("bookings", BIGINT),
                ("booking_rank", BIGINT),
            ],
        ),
        (
            "vw_top_listings_weekly",
            [
                ("week_start", DATE),
                ("currency", TEXT),
                ("listing_id", INTEGER),
                ("bookings", BIGINT),
                ("revenue", MONEY),
                ("revenue_rank", BIGINT),
            ],
        ),
        (
            "vw_bookings_per_user_weekly",
            [("week_start", DATE), ("user_id", INTEGER), ("bookings", BIGINT)],
        ),
        (
            "vw_avg_booking_duration",
            [("month_start", DATE), ("bookings", BIGINT), ("avg_nights", MONEY)],
        ),
        (
            "vw_repeat_customer_rate",
            [
                ("month_start", DATE),
                ("active_customers", BIGINT),
                ("repeat_customers", BIGINT),
                ("repeat_customer_rate", RATE),
            ],
        ),
    ],
)
def test_view_columns_and_types(warehouse, view, columns):
    described = view_columns(warehouse, view)

    assert described == [(name, *kind) for name, kind in columns]
