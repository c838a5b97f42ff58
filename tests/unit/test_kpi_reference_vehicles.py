"""The independent vehicle-rental KPI reference on a tiny hand-made landing whose numbers
were worked out by hand."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal as D
from pathlib import Path

import pytest

from tests.support.kpi_reference_vehicles import (
    VIEW_COLUMNS,
    Unparseable,
    compute_vehicle_kpis,
    load_landing,
    parse_value,
    vehicle_fact_stats,
)


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text.lstrip("\n"), encoding="utf-8")


@pytest.fixture
def landing(tmp_path) -> list[Path]:
    b1, b2 = tmp_path / "batch1", tmp_path / "batch2"
    # Columns in another order than the lab's, some missing, one extra.
    write(
        b1 / "vehicles.csv",
        """
vehicle_id,last_update_timestamp,vehicle_type,vehicle_year
v1,01-03-2024 10:00:00,basic,2020
v2,05-03-2024 00:00:00,premium,2020
v2,01-02-2024 00:00:00,high_end,2020
v3,,basic,2020
v3,2024-01-15 00:00:00,high_end,2020
v4,01-01-2024 00:00:00,basic,abc
v5,01-03-2024 10:00:00,basic,2020
v5,2024-03-01 10:00:00,premium,2020
""",
    )
    write(
        b1 / "location.csv",
        """
location_id,location_name,city,state
1001,"Alpha, Inc",Fresno,CA
1002,Beta,,CA
""",
    )
    write(b1 / "users.csv", "user_id,first_name\nu1,Ann\nu2,Bob\n")
    write(
        b1 / "rental_transactions.csv",
        """
rental_id,vehicle_id,user_id,rental_start_time,rental_end_time,pickup_location,dropoff_location,total_amount,note
r1,v1,u1,2024-01-01 10:00:00,2024-01-01 12:30:00,1001,1002,100.00,x
r2,v2,u2,2024-01-01 09:00:00,2024-01-02 09:00:00,1002,1001,240.5,x
r3,v9,u1,2024-01-02 23:00:00,2024-01-03 01:20:00,1003,1001,50,x
r4,v1,u2,2024-01-02 10:00:00,2024-01-02 09:00:00,1001,1002,30,x
r5,v2,u2,2024-01-02 10:00:00,2024-01-02 11:00:00,1001,1002,-5,x
r6,v1,u1,2024-13-01 00:00:00,2024-01-01 01:00:00,1001,1002,10,x
r7,v1,u1,2024-01-01 00:00:00,2024-01-01 01:00:00,1001,1002,10
,v1,u1,2024-01-01 00:00:00,2024-01-01 01:00:00,1001,1002,10,x
r9,v3,,2024-01-02 08:00:00,2024-01-02 08:00:01,1002,1001,0,x
""",
    )
    write(
        b2 / "vehicles.csv",
        "vehicle_id,last_update_timestamp,vehicle_type\n"
        "v1,02-03-2024 10:00:00, Premium \n"  # trimmed and lower-cased in the KPIs
        "v2,04-03-2024 00:00:00,basic\n"
        "v3,,basic\n",
    )
    write(b2 / "locations.csv", "location_id,location_name,city,state\n1003,Gamma,Oakland,CA\n")
    write(
        b2 / "rental_transactions.csv",
        """
rental_id,user_id,vehicle_id,rental_start_time,rental_end_time,pickup_location,dropoff_location,total_amount
r1,u1,v1,2024-01-01 10:00:00,2024-01-01 12:30:00,1001,1002,120.005
r4,u2,v1,2024-01-02 10:00:00,2024-01-02 13:00:00,1001,1002,30
""",
    )
    return [b1, b2]


def test_latest_versions(landing):
    data = load_landing(landing)
    assert data.rows_dropped == {
        "vehicles": 1,
        "locations": 0,
        "users": 0,
        "rental_transactions": 3,
    }
    # v1: the newer row of batch 2 (trimmed, lower-cased); v2: the newest timestamp, not the
    # last line; v3: a version with a timestamp beats one without; v5: equal timestamps in
    # two layouts, the later line wins; v4: unparseable vehicle_year, dropped.
    assert {v: data.vehicle_type(v) for v in ("v1", "v2", "v3", "v4", "v5", "v9")} == {
        "v1": "premium",
        "v2": "premium",
        "v3": "high_end",
        "v4": "unknown",
        "v5": "premium",
        "v9": "unknown",
    }
    assert data.vehicles["v2"]["last_update_timestamp"] == datetime(2024, 3, 5)
    assert set(data.locations) == {1001, 1002, 1003}
    assert data.locations[1001]["location_name"] == "Alpha, Inc"
    assert data.transactions["r1"]["total_amount"] == D("120.005")  # replaced by batch 2
    assert set(data.transactions) == {"r1", "r2", "r3", "r4", "r5", "r9"}


def test_fact_stats(landing):
    stats = vehicle_fact_stats(landing)
    assert stats.valid_transactions == 5  # r1 r2 r3 r4 r9; r5 is negative
    assert stats.total_revenue == D("440.505")
    assert stats.total_revenue_rounded == D("440.51")
    assert stats.distinct_users == 2
    assert stats.distinct_vehicles == 4
    assert stats.total_duration_seconds == 9000 + 86400 + 8400 + 10800 + 1


def test_views(landing):
    kpis = compute_vehicle_kpis(landing)
    assert set(kpis) == set(VIEW_COLUMNS)
    for view, rows in kpis.items():
        assert all(len(r) == len(VIEW_COLUMNS[view]) for r in rows), view

    assert kpis["vw_location_performance"] == [
        (1001, "Alpha, Inc", "Fresno", "CA", 2, D("150.01"), D("75.00"), D("120.01"), D("30.00"), 1, D("2.75")),
        (1002, "Beta", "unknown", "CA", 2, D("240.50"), D("120.25"), D("240.50"), D("0.00"), 2, D("12.00")),
        (1003, "Gamma", "Oakland", "CA", 1, D("50.00"), D("50.00"), D("50.00"), D("50.00"), 1, D("2.33")),
    ]  # fmt: skip
    assert kpis["vw_vehicle_type_performance"] == [
        ("high_end", 1, D("0.00"), D("0.00"), D("0.00"), D("0.00")),
        ("premium", 3, D("390.51"), D("130.17"), D("29.50"), D("9.83")),
        ("unknown", 1, D("50.00"), D("50.00"), D("2.33"), D("2.33")),
    ]
    assert kpis["vw_daily_transaction_metrics"] == [
        (date(2024, 1, 1), 2, D("360.51"), D("180.25"), D("240.50"), D("120.01"), 2),
        (date(2024, 1, 2), 3, D("80.00"), D("26.67"), D("50.00"), D("0.00"), 2),
    ]
    assert kpis["vw_user_engagement_metrics"] == [
        ("u1", 2, D("170.01"), D("85.00"), D("4.83"), D("2.42"), D("120.01"), D("50.00")),
        ("u2", 2, D("270.50"), D("135.25"), D("27.00"), D("13.50"), D("240.50"), D("30.00")),
        ("unknown", 1, D("0.00"), D("0.00"), D("0.00"), D("0.00"), D("0.00"), D("0.00")),
    ]
    assert kpis["vw_top_revenue_days"] == [
        (date(2024, 1, 1), D("360.51"), 2, 1),
        (date(2024, 1, 2), D("80.00"), 3, 2),
    ]
    assert kpis["vw_rental_business_summary"] == [(5, D("440.51"), 2, 4, D("88.10"), D("6.37"))]


def test_top_revenue_days_ties(tmp_path):
    # Twelve days; days 1 and 2 tie for first, days 10 and 11 tie at 30.00 once rounded.
    amounts = ["120", "120", "100", "90", "80", "70", "60", "50", "40", "30.004", "29.996", "20"]
    lines = ["rental_id,user_id,vehicle_id,rental_start_time,rental_end_time,total_amount"]
    for day, amount in enumerate(amounts, start=1):
        lines.append(f"r{day},u1,v1,2024-03-{day:02d} 10:00:00,2024-03-{day:02d} 11:00:00,{amount}")
    write(tmp_path / "b" / "rental_transactions.csv", "\n".join(lines) + "\n")
    top = compute_vehicle_kpis([tmp_path / "b"])["vw_top_revenue_days"]
    ranks = {row[0].day: row[3] for row in top}
    assert ranks == {1: 1, 2: 1, 3: 3, 4: 4, 5: 5, 6: 6, 7: 7, 8: 8, 9: 9, 10: 10, 11: 10}
    assert top[9][1] == top[10][1] == D("30.00")
    # No location file at all: every pickup location is unknown (here NULL).
    locations = compute_vehicle_kpis([tmp_path / "b"])["vw_location_performance"]
    assert [r[:5] for r in locations] == [(None, "unknown", "unknown", "unknown", 12)]


def test_empty_landing(tmp_path):
    kpis = compute_vehicle_kpis([tmp_path])
    assert kpis["vw_rental_business_summary"] == [(0, D("0.00"), 0, 0, None, None)]
    assert all(rows == [] for view, rows in kpis.items() if view != "vw_rental_business_summary")


@pytest.mark.parametrize(
    ("text", "kind", "expected"),
    [
        ("12", "int", 12),
        ("-3.0", "int", -3),
        ("", "int", None),
        (" 7 ", "int", 7),
        ("1.25", "decimal", D("1.25")),
        (".5", "double", D("0.5")),
        ("TRUE", "bool", True),
        ("0", "bool", False),
        ("31-12-2024", "date", date(2024, 12, 31)),
        ("2024-12-31 23:59:59", "timestamp", datetime(2024, 12, 31, 23, 59, 59)),
        ("04-06-2024 13:25:00", "timestamp", datetime(2024, 6, 4, 13, 25)),
        ("2024-06-04", "timestamp", datetime(2024, 6, 4)),
        ("", "str", None),
        (" a ", "str", " a "),
    ],
)
def test_parse_value(text, kind, expected):
    assert parse_value(text, kind) == expected


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("1.5", "int"),
        ("12a", "int"),
        ("99999999999", "int"),
        ("1e3", "decimal"),
        ("yes", "bool"),
        ("2024-02-30", "date"),
        ("2024/01/01", "date"),
        ("2024-01-01T10:00:00", "timestamp"),
        ("2024-01-01 25:00:00", "timestamp"),
    ],
)
def test_parse_value_rejects(text, kind):
    with pytest.raises(Unparseable):
        parse_value(text, kind)
