"""The report's data and page built from view rows, without a warehouse."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from html.parser import HTMLParser

from rental_analytics.report import (
    KPI_VIEWS,
    Freshness,
    Kpi,
    Report,
    headlines,
    kpi_definitions,
    last_successful_run,
)
from rental_analytics.report_html import CHARTS, chart, render_html
from rental_analytics.runs import Attempt, RunRecord, StepRecord

D = Decimal
W1, W2 = date(2025, 3, 3), date(2025, 3, 10)
M1, M2 = date(2025, 2, 1), date(2025, 3, 1)
ROWS = {
    "vw_avg_listing_price_weekly": (
        ["week_start", "currency", "active_listings", "avg_price"],
        [(W2, "EUR", 3, D("90.00")), (W2, "USD", 2, D("120.50")), (W1, "USD", 1, D("80.00"))],
    ),
    "vw_occupancy_rate_monthly": (
        ["month_start", "available_nights", "booked_nights", "occupancy_rate"],
        [(M2, 100, 40, D("0.4000")), (M1, 90, 9, D("0.1000"))],
    ),
    "vw_popular_locations_weekly": (
        ["week_start", "cityname", "state", "bookings", "booking_rank"],
        [(W2, "Reno", "NV", 5, 1), (W2, "Portland", "OR", 2, 2), (W1, "Bend", "OR", 9, 1)],
    ),
    "vw_top_listings_weekly": (
        ["week_start", "currency", "listing_id", "bookings", "revenue", "revenue_rank"],
        [(W2, "EUR", 1, 2, D("300.00"), 1), (W2, "USD", 2, 1, D("150.00"), 1)],
    ),
    "vw_bookings_per_user_weekly": (
        ["week_start", "user_id", "bookings"],
        [(W2, 1, 3), (W2, 2, 1), (W1, 1, 1)],
    ),
    "vw_avg_booking_duration": (
        ["month_start", "bookings", "avg_nights"],
        [(M2, 4, D("2.50")), (M1, 1, D("3.00"))],
    ),
    "vw_repeat_customer_rate": (
        ["month_start", "active_customers", "repeat_customers", "repeat_customer_rate"],
        [(M2, 4, 1, D("0.2500")), (M1, 2, 0, D("0.0000"))],
    ),
    "vw_rental_business_summary": (
        ["transactions", "revenue", "unique_users", "unique_vehicles", "avg_amount",
         "avg_duration_hours"],
        [(3, D("1234.50"), 2, 2, D("411.50"), D("5.25"))],
    ),
    "vw_vehicle_type_performance": (
        ["vehicle_type", "transactions", "revenue", "avg_amount", "total_duration_hours",
         "avg_duration_hours"],
        [("suv", 2, D("1000.00"), D("500.00"), D("10.00"), D("5.00"))],
    ),
    "vw_location_performance": (
        ["location_id", "location_name", "city", "state", "transactions", "revenue",
         "avg_amount", "max_amount", "min_amount", "unique_vehicles", "avg_duration_hours"],
        [(1, "Airport", "Reno", "NV", 3, D("1234.50"), D("411.50"), D("900"), D("100"), 2,
          D("5.25"))],
    ),
    "vw_top_revenue_days": (
        ["rental_date", "revenue", "transactions", "revenue_rank"],
        [(date(2025, 3, 4), D("1000.00"), 2, 1), (date(2025, 3, 5), D("234.50"), 1, 2)],
    ),
    "vw_daily_transaction_metrics": (
        ["rental_date", "transactions", "revenue", "avg_amount", "max_amount", "min_amount",
         "unique_users"],
        [(date(2025, 3, 5), 1, D("234.50"), D("234.50"), D("234.50"), D("234.50"), 1),
         (date(2025, 3, 4), 2, D("1000.00"), D("500"), D("900"), D("100"), 2)],
    ),
    "vw_user_engagement_metrics": (
        ["user_id", "transactions", "total_spent", "avg_spent", "total_duration_hours",
         "avg_duration_hours", "max_amount", "min_amount"],
        [("u1", 2, D("1000.00"), D("500"), D("10"), D("5"), D("900"), D("100")),
         ("u2", 1, D("234.50"), D("234.5"), D("0.5"), D("0.5"), D("234.5"), D("234.5"))],
    ),
}  # fmt: skip


def kpis() -> list[Kpi]:
    defs = kpi_definitions()
    return [Kpi(v, *ROWS[v], defs.get(v, "")) for v in KPI_VIEWS]


def test_every_view_has_a_chart_and_a_definition_from_the_dictionary():
    assert set(CHARTS) == set(KPI_VIEWS) == set(ROWS) and len(KPI_VIEWS) == 13
    defs = kpi_definitions()
    assert set(defs) == set(KPI_VIEWS)
    assert "rank() by bookings desc" in defs["vw_popular_locations_weekly"]
    for kpi in kpis():
        fig = chart(kpi)
        assert fig is not None and fig.data, kpi.view
        assert fig.layout.title.text, kpi.view
        assert all(len(getattr(t, "x", None) or ()) for t in fig.data), kpi.view


def test_money_in_different_currencies_never_shares_an_axis():
    for view in ("vw_avg_listing_price_weekly", "vw_top_listings_weekly"):
        fig = chart(next(k for k in kpis() if k.view == view))
        axis_of = {}
        for t in fig.data:
            key = t.xaxis if t.orientation == "h" else t.yaxis
            axis_of.setdefault(key, set()).add(t.meta["currency"])
        assert len(axis_of) == 2 and all(len(c) == 1 for c in axis_of.values()), view
    price = chart(next(k for k in kpis() if k.view == "vw_avg_listing_price_weekly"))
    titles = {price.layout[a].title.text for a in ("yaxis", "yaxis2")}
    assert titles == {"average price (EUR)", "average price (USD)"}


def test_rankings_show_the_latest_week_only():
    fig = chart(next(k for k in kpis() if k.view == "vw_popular_locations_weekly"))
    assert list(fig.data[0].y) == ["Portland, OR", "Reno, NV"]  # bars bottom-up
    assert "2025-03-10" in fig.layout.title.text


def test_headlines_are_the_summary_and_the_latest_month():
    found = headlines(kpis())
    vehicle = {h.label: h.value for h in found["vehicle rentals"]}
    assert vehicle["revenue"] == "1234.50" and vehicle["transactions"] == "3"
    apartments = {h.label: h.shown for h in found["apartments"]}
    assert apartments == {
        "occupancy, March 2025": "40.0 %",
        "repeat customers, March 2025": "25.0 %",
        "average stay (nights), March 2025": "2.50",
    }


def test_page_is_self_contained_and_names_the_views():
    page = render_html(Report(Freshness("r1", "2025-03-31", "2025-03-31T02:10:00"),
                              headlines(kpis()), kpis()))  # fmt: skip
    assert "last successful run r1" in page
    refs = []

    class Refs(HTMLParser):
        def handle_starttag(self, tag, attrs):
            refs.extend(v for k, v in attrs if k in ("src", "href"))

    Refs().feed(page)
    assert refs == []  # plotly.js is inline, and nothing else is loaded or linked
    for view in KPI_VIEWS:
        assert f"<code>presentation.{view}</code>" in page


def test_an_empty_view_says_so_instead_of_a_chart():
    empty = Kpi("vw_top_revenue_days", ROWS["vw_top_revenue_days"][0], [])
    assert chart(empty) is None
    page = render_html(Report(Freshness(), headlines([empty]), [empty]))
    assert "no rows yet" in page and "no successful run" in page


class _Ledger:
    def __init__(self, *records):
        self.records = list(records)

    def recent(self, limit=10):
        return self.records[:limit]


def test_freshness_is_the_last_successful_run_with_its_curated_row_counts():
    """The analyst reads presentation only: the row counts come from the run's curate
    metrics (its last attempt), not from counting the curated tables."""
    curate = StepRecord(
        "Curate",
        attempts=[
            Attempt(1, metrics={"merges": [{"target": "fact_rentals", "rows_total": 1}]}),
            Attempt(
                2,
                metrics={
                    "merges": [
                        {"target": "fact_rentals", "rows_total": 42},
                        {"target": "dim_listings", "rows_total": 7},
                    ]
                },
            ),
        ],
    )
    failed = RunRecord("2025-03-11_x", "2025-03-11", status="FAILED")
    ok = RunRecord("2025-03-10_y", "2025-03-10", "SUCCEEDED", ended_at="2025-03-10T02:09:00Z",
                   steps=[StepRecord("Extract"), curate])  # fmt: skip
    fresh = last_successful_run(_Ledger(failed, ok))
    assert (fresh.run_id, fresh.row_counts) == (
        "2025-03-10_y",
        {"dim_listings": 7, "fact_rentals": 42},
    )
    assert "curated rows: dim_listings 7, fact_rentals 42" in fresh.line()
    assert last_successful_run(_Ledger(failed)).line().startswith("no successful run")
