"""The vehicle-rentals KPI views (redshift/views/*.sql) on the real local warehouse.

Each test inserts a few literal curated rows and compares the whole view with rows computed by
hand (the arithmetic is in the comments). Money is rounded half-up to 2 decimals, so amounts and
durations are chosen to land on x.xx5 where truncation or half-even rounding would differ; hours
are aggregated from exact seconds, so some durations are chosen whose rounded hours would sum to
a different total. 2024 is a leap year; 2024-01-31 22:30 -> 2024-02-01 01:10 is 2h40m = 9600 s.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest

from tests.support.vehicle_rows import add_location, add_rental, add_vehicle
from tests.support.warehouse_rows import BIGINT, HOURS, MONEY, rows, view_columns

D = Decimal
MONTH_END_START = datetime(2024, 1, 31, 22, 30)
MONTH_END_END = datetime(2024, 2, 1, 1, 10)  # 9600 s = 2.666... h


def _minutes(start: datetime, minutes: float) -> datetime:
    return start + timedelta(minutes=minutes)


def test_location_performance(warehouse):
    add_location(warehouse, 1, location_name="Downtown", city="Austin", state="TX")
    add_location(warehouse, 2, location_name="Airport", city=None, state="CO")
    add_location(warehouse, 3, location_name="Harbor", city="Boston", state="MA")  # no pickups
    rentals = [
        # (rental_id, pickup, dropoff, vehicle, start, end, amount)
        ("r1", 1, 1, "v1", MONTH_END_START, MONTH_END_END, "10.0000"),  # 9600 s
        ("r2", 1, 2, "v2", datetime(2024, 1, 10, 10), datetime(2024, 1, 10, 12), "15.0000"),
        ("r3", 1, 3, "v1", datetime(2024, 1, 11, 9), datetime(2024, 1, 11, 9, 45), "5.0150"),
        ("r4", 2, 1, "v3", datetime(2024, 2, 1, 8), datetime(2024, 2, 1, 9, 30), "40.0000"),
        ("r5", 2, 2, None, datetime(2024, 2, 2, 8), datetime(2024, 2, 2, 8, 30), "20.0000"),
        ("r6", 99, 1, "v9", datetime(2024, 2, 3, 8), datetime(2024, 2, 3, 9), "12.3450"),
        ("r7", None, 1, "v1", datetime(2024, 2, 4, 8), datetime(2024, 2, 4, 8, 1), "0.0000"),
    ]
    for rental_id, pickup, dropoff, vehicle_id, start, end, amount in rentals:
        add_rental(
            warehouse,
            rental_id,
            start=start,
            end=end,
            total_amount=amount,
            vehicle_id=vehicle_id,
            pickup_location_id=pickup,
            dropoff_location_id=dropoff,
        )

    assert rows(
        warehouse, "select * from presentation.vw_location_performance order by 1 nulls last"
    ) == [
        # revenue 10 + 15 + 5.015 = 30.015 -> 30.02; avg 30.015 / 3 = 10.005 -> 10.01 (half-up;
        # truncation or half-even: 10.00); min 5.015 -> 5.02; vehicles v1, v2;
        # hours (9600 + 7200 + 2700) / (3600 x 3) = 19500 / 10800 = 1.80555... -> 1.81
        (1, "Downtown", "Austin", "TX", 3, D("30.02"), D("10.01"), D("15.00"), D("5.02"), 2, D("1.81")),
        # picked up at 2, whatever the drop-off; NULL city shows 'unknown'; the NULL vehicle is
        # not a vehicle: unique_vehicles 1; hours (5400 + 1800) / 7200 = 1.00
        (2, "Airport", "unknown", "CO", 2, D("60.00"), D("30.00"), D("40.00"), D("20.00"), 1, D("1.00")),
        # location 99 has no dimension row yet (late-arriving): kept, attributed to 'unknown';
        # 12.345 -> 12.35 half-up
        (99, "unknown", "unknown", "unknown", 1, D("12.35"), D("12.35"), D("12.35"), D("12.35"), 1, D("1.00")),
        # no pickup location at all: one group of its own; 60 s / 3600 = 0.01666... -> 0.02
        (None, "unknown", "unknown", "unknown", 1, D("0.00"), D("0.00"), D("0.00"), D("0.00"), 1, D("0.02")),
    ]  # fmt: skip


def test_vehicle_type_performance(warehouse):
    add_vehicle(warehouse, "v1", vehicle_type="basic")
    add_vehicle(warehouse, "v2", vehicle_type="premium")
    add_vehicle(warehouse, "v3", vehicle_type="basic")
    add_vehicle(warehouse, "v4", vehicle_type=None)  # known vehicle, type unknown
    day = datetime(2024, 1, 10, 9)
    rentals = [
        # (rental_id, vehicle, start, end, amount)
        ("r1", "v1", day, _minutes(day, 20), "10.0000"),  # 1200 s = 0.333... h -> 0.33
        ("r2", "v1", day, _minutes(day, 20), "10.0000"),
        ("r3", "v3", day, _minutes(day, 20), "10.0150"),
        ("r4", "v2", MONTH_END_START, MONTH_END_END, "50.0000"),  # 9600 s
        ("r5", "v2", day, day + timedelta(seconds=9588), "70.1234"),  # 2h39m48s
        ("r6", "v9", day, _minutes(day, 60), "5.0000"),  # v9 not in dim_vehicles yet
        ("r7", None, day, _minutes(day, 120), "7.0000"),  # no vehicle at all
        ("r8", "v4", day, _minutes(day, 180), "8.0000"),
    ]
    for rental_id, vehicle_id, start, end, amount in rentals:
        add_rental(
            warehouse, rental_id, start=start, end=end, total_amount=amount, vehicle_id=vehicle_id
        )
    query = "select * from presentation.vw_vehicle_type_performance order by 1"

    assert rows(warehouse, query) == [
        # revenue 30.015 -> 30.02; avg 10.005 -> 10.01 (half-up; truncation or half-even 10.00);
        # total hours 3 x 1200 s = 3600 s = 1.00 (summing the rounded 0.33 would give 0.99);
        # avg 3600 / (3600 x 3) = 0.333... -> 0.33
        ("basic", 3, D("30.02"), D("10.01"), D("1.00"), D("0.33")),
        # revenue 120.1234 -> 120.12; avg 60.0617 -> 60.06; total (9600 + 9588) / 3600 = 5.33;
        # avg 19188 / 7200 = 2.665 -> 2.67 (half-up; truncation or half-even: 2.66)
        ("premium", 2, D("120.12"), D("60.06"), D("5.33"), D("2.67")),
        # v9 (no dim row), NULL vehicle, v4 (NULL type): revenue 20.00, avg 6.666... -> 6.67;
        # hours 1 + 2 + 3 = 6.00, avg 2.00
        ("unknown", 3, D("20.00"), D("6.67"), D("6.00"), D("2.00")),
    ]

    # v9's dimension row arrives: its rental moves from 'unknown' to premium at query time.
    add_vehicle(warehouse, "v9", vehicle_type="premium")

    assert rows(warehouse, query) == [
        ("basic", 3, D("30.02"), D("10.01"), D("1.00"), D("0.33")),
        # revenue 120.1234 + 5 = 125.1234 -> 125.12; avg 41.7078 -> 41.71;
        # hours (19188 + 3600) / 3600 = 6.33; avg 22788 / 10800 = 2.11
        ("premium", 3, D("125.12"), D("41.71"), D("6.33"), D("2.11")),
        # revenue 15.00, avg 7.50; hours 2 + 3 = 5.00, avg 2.50
        ("unknown", 2, D("15.00"), D("7.50"), D("5.00"), D("2.50")),
    ]


def test_daily_transaction_metrics(warehouse):
    rentals = [
        # (rental_id, user, start, end, amount)
        ("r1", "u1", MONTH_END_START, MONTH_END_END, "10.0000"),  # ends next day: counts on 31st
        ("r2", "u2", datetime(2024, 1, 31), datetime(2024, 1, 31, 1), "20.0050"),
        (
            "r3",
            None,  # no user: a transaction, not a user
            datetime(2024, 1, 31, 23, 59, 59),
            datetime(2024, 2, 1, 0, 0, 1),
            "0.0000",
        ),
        ("r4", "u1", datetime(2024, 2, 1), datetime(2024, 2, 1, 2), "5.5000"),  # midnight: Feb 1
        ("r5", "u1", datetime(2024, 2, 1, 12), datetime(2024, 2, 1, 13), "4.4950"),
        ("r6", "u3", datetime(2024, 2, 29, 23), datetime(2024, 3, 1, 1), "99.9999"),  # leap day
    ]
    for rental_id, user_id, start, end, amount in rentals:
        add_rental(warehouse, rental_id, start=start, end=end, total_amount=amount, user_id=user_id)

    assert rows(
        warehouse, "select * from presentation.vw_daily_transaction_metrics order by 1"
    ) == [
        # revenue 10 + 20.005 + 0 = 30.005 -> 30.01 (half-up; truncation or half-even 30.00);
        # avg 30.005 / 3 = 10.00166... -> 10.00; max 20.005 -> 20.01; users u1, u2 (NULL not counted)
        (date(2024, 1, 31), 3, D("30.01"), D("10.00"), D("20.01"), D("0.00"), 2),
        # revenue 5.5 + 4.495 = 9.995 -> 10.00 (truncation: 9.99); avg 4.9975 -> 5.00;
        # min 4.495 -> 4.50; one user (u1) twice
        (date(2024, 2, 1), 2, D("10.00"), D("5.00"), D("5.50"), D("4.50"), 1),
        # 99.9999 -> 100.00
        (date(2024, 2, 29), 1, D("100.00"), D("100.00"), D("100.00"), D("100.00"), 1),
    ]


def test_user_engagement_metrics(warehouse):
    day = datetime(2024, 1, 10, 9)
    rentals = [
        # (rental_id, user, start, end, amount)
        ("r1", "u1", day, _minutes(day, 20), "1.0000"),  # 1200 s each
        ("r2", "u1", _minutes(day, 60), _minutes(day, 80), "2.0000"),
        ("r3", "u1", _minutes(day, 120), _minutes(day, 140), "3.0150"),
        ("r4", "u2", MONTH_END_START, MONTH_END_END, "12.3456"),  # 9600 s
        ("r5", None, day, _minutes(day, 60), "4.0000"),
        ("r6", None, day, _minutes(day, 120), "6.0000"),
    ]
    for rental_id, user_id, start, end, amount in rentals:
        add_rental(warehouse, rental_id, start=start, end=end, total_amount=amount, user_id=user_id)

    assert rows(warehouse, "select * from presentation.vw_user_engagement_metrics order by 1") == [
        # spent 1 + 2 + 3.015 = 6.015 -> 6.02; avg 2.005 -> 2.01 (half-up; half-even 2.00);
        # hours 3600 s = 1.00 (rounded 0.33 x 3 would be 0.99); avg 0.333... -> 0.33;
        # max 3.015 -> 3.02 (half-up); min 1.00
        ("u1", 3, D("6.02"), D("2.01"), D("1.00"), D("0.33"), D("3.02"), D("1.00")),
        # 12.3456 -> 12.35; 9600 / 3600 = 2.666... -> 2.67 (across midnight and a month end)
        ("u2", 1, D("12.35"), D("12.35"), D("2.67"), D("2.67"), D("12.35"), D("12.35")),
        # NULL user: 'unknown'; spent 10.00, avg 5.00; hours 1 + 2 = 3.00, avg 1.50
        ("unknown", 2, D("10.00"), D("5.00"), D("3.00"), D("1.50"), D("6.00"), D("4.00")),
    ]


def test_top_revenue_days(warehouse):
    revenues = {
        # rental_date: amounts of that day's rentals
        date(2024, 3, 1): ["100.0000"],
        date(2024, 3, 2): ["45.0000", "45.0000"],  # 90.00, tied with the 3rd
        date(2024, 3, 3): ["90.0000"],
        date(2024, 3, 4): ["80.0040"],  # shown 80.00
        date(2024, 3, 5): ["79.9960"],  # shown 80.00: tied with the 4th on the shown revenue
        date(2024, 3, 6): ["70.0000"],
        date(2024, 3, 7): ["60.0000"],
        date(2024, 3, 8): ["50.0000"],
        date(2024, 3, 9): ["40.0000"],
        date(2024, 3, 10): ["30.0000"],
        date(2024, 3, 11): ["10.0000", "20.0000"],  # 30.00, tied at the cut: both kept
        date(2024, 3, 12): ["20.0000"],  # rank 12: cut
        date(2024, 3, 13): ["10.0000"],  # rank 13: cut
    }
    n = 0
    for day, amounts in revenues.items():
        for amount in amounts:
            n += 1
            start = datetime.combine(day, datetime.min.time()) + timedelta(hours=23)
            # ends the next day: the rental still belongs to its start day
            add_rental(
                warehouse, f"r{n}", start=start, end=start + timedelta(hours=2), total_amount=amount
            )

    assert rows(warehouse, "select * from presentation.vw_top_revenue_days order by 4, 1") == [
        (date(2024, 3, 1), D("100.00"), 1, 1),
        (date(2024, 3, 2), D("90.00"), 2, 2),
        (date(2024, 3, 3), D("90.00"), 1, 2),
        # two days at rank 2, so the next rank is 4
        (date(2024, 3, 4), D("80.00"), 1, 4),
        (date(2024, 3, 5), D("80.00"), 1, 4),
        (date(2024, 3, 6), D("70.00"), 1, 6),
        (date(2024, 3, 7), D("60.00"), 1, 7),
        (date(2024, 3, 8), D("50.00"), 1, 8),
        (date(2024, 3, 9), D("40.00"), 1, 9),
        (date(2024, 3, 10), D("30.00"), 1, 10),
        (date(2024, 3, 11), D("30.00"), 2, 10),
        # 2024-03-12 (rank 12) and 2024-03-13 (rank 13) are beyond the top 10
    ]


def test_rental_business_summary(warehouse):
    query = "select * from presentation.vw_rental_business_summary"
    # No rentals yet: still exactly one row; nothing to average.
    assert rows(warehouse, query) == [(0, D("0.00"), 0, 0, None, None)]

    rentals = [
        # (rental_id, user, vehicle, start, end, amount)
        ("r1", "u1", "v1", datetime(2024, 1, 5, 10), datetime(2024, 1, 5, 11), "10.0000"),  # 3600 s
        ("r2", "u1", "v2", MONTH_END_START, MONTH_END_END, "19.9800"),  # 9600 s
        ("r3", None, "v9", datetime(2024, 1, 6, 10), datetime(2024, 1, 6, 10, 20), "0.0000"),  # 1200 s
        ("r4", "u2", None, datetime(2024, 1, 7, 10), datetime(2024, 1, 7, 12, 1, 12), "5.0000"),  # 7272 s
    ]  # fmt: skip
    for rental_id, user_id, vehicle_id, start, end, amount in rentals:
        add_rental(
            warehouse,
            rental_id,
            start=start,
            end=end,
            total_amount=amount,
            user_id=user_id,
            vehicle_id=vehicle_id,
        )

    assert rows(warehouse, query) == [
        # revenue 10 + 19.98 + 0 + 5 = 34.98; users u1, u2 (NULL not counted);
        # vehicles v1, v2, v9 (NULL not counted);
        # avg 34.98 / 4 = 8.745 -> 8.75 (half-up; truncation or half-even: 8.74);
        # hours (3600 + 9600 + 1200 + 7272) / (3600 x 4) = 21672 / 14400 = 1.505 -> 1.51
        # (half-up; truncation or half-even: 1.50)
        (4, D("34.98"), 2, 3, D("8.75"), D("1.51")),
    ]


@pytest.mark.parametrize(
    ("view", "columns"),
    [
        (
            "vw_location_performance",
            [
                ("location_id", ("integer", 32, 0)),
                ("location_name", ("character varying", None, None)),
                ("city", ("character varying", None, None)),
                ("state", ("character varying", None, None)),
                ("transactions", BIGINT),
                ("revenue", MONEY),
                ("avg_amount", MONEY),
                ("max_amount", MONEY),
                ("min_amount", MONEY),
                ("unique_vehicles", BIGINT),
                ("avg_duration_hours", HOURS),
            ],
        ),
        (
            "vw_vehicle_type_performance",
            [
                ("vehicle_type", ("character varying", None, None)),
                ("transactions", BIGINT),
                ("revenue", MONEY),
                ("avg_amount", MONEY),
                ("total_duration_hours", HOURS),
                ("avg_duration_hours", HOURS),
            ],
        ),
        (
            "vw_daily_transaction_metrics",
            [
                ("rental_date", ("date", None, None)),
                ("transactions", BIGINT),
                ("revenue", MONEY),
                ("avg_amount", MONEY),
                ("max_amount", MONEY),
                ("min_amount", MONEY),
                ("unique_users", BIGINT),
            ],
        ),
        (
            "vw_user_engagement_metrics",
            [
                ("user_id", ("character varying", None, None)),
                ("transactions", BIGINT),
                ("total_spent", MONEY),
                ("avg_spent", MONEY),
                ("total_duration_hours", HOURS),
                ("avg_duration_hours", HOURS),
                ("max_amount", MONEY),
                ("min_amount", MONEY),
            ],
        ),
        (
            "vw_top_revenue_days",
            [
                ("rental_date", ("date", None, None)),
                ("revenue", MONEY),
                ("transactions", BIGINT),
                ("revenue_rank", BIGINT),
            ],
        ),
        (
            "vw_rental_business_summary",
            [
                ("transactions", BIGINT),
                ("revenue", MONEY),
                ("unique_users", BIGINT),
                ("unique_vehicles", BIGINT),
                ("avg_amount", MONEY),
                ("avg_duration_hours", HOURS),
            ],
        ),
    ],
)
def test_view_columns_and_types(warehouse, view, columns):
    described = view_columns(warehouse, view)

    assert described == [(name, *kind) for name, kind in columns]
