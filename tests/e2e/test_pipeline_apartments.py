"""The apartments pipeline end to end through the `rentals` command on the real local stack:
generate, run, compare every view with KPIs computed independently from the source rows,
import changes, run again, and check that a run with no change leaves every table identical.
The generated data has both domains, so the warehouse it leaves is also where the HTML
report is opened in headless Chromium.
"""

from __future__ import annotations

import csv
from decimal import Decimal

import pymysql

from rental_analytics.local import source_db
from rental_analytics.report import KPI_VIEWS
from tests.support import cli, kpi_reference
from tests.support.browser import check_page
from tests.support.cli import normalized, rentals, view_rows

VIEWS = tuple(kpi_reference.all_kpis([], [], []))
TABLES = (
    "raw_data.stg_apartments", "raw_data.stg_apartment_attributes", "raw_data.stg_bookings",
    "raw_data.stg_user_viewing", "raw_data.rejects", "curated.dim_listings",
    "curated.fact_bookings", "curated.fact_user_views", "curated.dim_users",
)  # fmt: skip


def source_rows(settings):
    conn = source_db.connect(settings)
    conn.cursorclass = pymysql.cursors.DictCursor
    try:
        with conn.cursor(pymysql.cursors.DictCursor) as cur:
            out = {}
            for t in ("apartments", "apartment_attributes", "bookings"):
                cur.execute(f"select * from {t}")
                out[t] = list(cur.fetchall())
            return out
    finally:
        conn.close()


def assert_views_match_source(settings, wh):
    src = source_rows(settings)
    expected = kpi_reference.all_kpis(
        src["apartments"], src["apartment_attributes"], src["bookings"]
    )
    for view in VIEWS:
        got, want = view_rows(wh, view), normalized(expected[view])
        assert got == want, (
            f"{view}: {len(got - want)} unexpected rows, e.g. {sorted(got - want, key=str)[:3]}; "
            f"{len(want - got)} missing, e.g. {sorted(want - got, key=str)[:3]}"
        )
        assert want, f"{view} is empty: the test data does not exercise it"


def snapshot(wh) -> dict[str, list]:
    return cli.snapshot(wh, TABLES + tuple(f"presentation.{v}" for v in VIEWS))


def write_csv(path, header, rows):
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)


def assert_report_page_in_browser(home, wh, tmp_path, capsys) -> None:
    """`rentals report --html` opened in headless Chromium: it loads with no console error
    and nothing from elsewhere, every view has a chart with drawn marks and both axes, no
    axis carries two currencies, and the headline revenue is the summary view's."""
    page, screenshot = tmp_path / "kpis.html", tmp_path / "report.png"
    rentals(home, "report", "--html", str(page))
    found = check_page(page, screenshot)
    with capsys.disabled():  # named in the test log even when the test passes
        print(f"\nreport screenshot: {screenshot}")

    assert found.console_errors == []
    assert found.outside_requests == [] and found.external_refs == []
    assert [c["view"] for c in found.charts] == list(KPI_VIEWS)
    for c in found.charts:
        assert c["marks"] > 0, f"{c['view']}: no marks drawn"
        assert c["xticks"] > 0 and c["yticks"] > 0, f"{c['view']}: an axis is missing"
        assert c["xtitles"] or c["ytitles"], f"{c['view']}: no axis says what it measures"
        for axis, currencies in c["axes"].items():
            assert len(set(currencies) - {None}) <= 1, f"{c['view']} {axis}: {currencies}"
    _, summary = wh.query("select revenue from presentation.vw_rental_business_summary")
    assert summary[0][0] > 0
    assert Decimal(found.headlines["revenue"]) == summary[0][0]
    assert screenshot.stat().st_size > 0


def test_generate_run_change_rerun(fresh_home, settings, warehouse, tmp_path, capsys):
    home = fresh_home
    rentals(home, "source", "generate", "--scale", "0.004", "--seed", "7")
    run = rentals(home, "run", "--run-date", "2025-03-31")
    assert "succeeded" in run.stderr
    assert_views_match_source(settings, warehouse)

    _, bad = warehouse.query(
        "select source_table, batch_id from raw_data.load_batches"
        " where rows_extracted <> rows_loaded + rows_rejected"
    )
    assert bad == []

    # A run with no source change leaves every table and view identical.
    before = snapshot(warehouse)
    rentals(home, "run", "--run-date", "2025-03-31")
    assert snapshot(warehouse) == before

    # New and changed rows through the lab-format import, then another run.
    src = source_rows(settings)
    apt = max(src["apartments"], key=lambda a: a["id"])
    new_id = apt["id"] + 1
    recent = [
        b
        for b in src["bookings"]
        if b["booking_date"] and b["booking_date"].isoformat() >= "2025-03-05"
    ]
    assert recent, "the generated data has no booking inside the lookback window"
    changed = recent[0]
    new_status = (
        "canceled" if changed["booking_status"].strip().lower() == "confirmed" else "confirmed"
    )
    write_csv(
        tmp_path / "apartments.csv",
        ["id", "title", "source", "price", "currency", "listing_created_on", "is_active",
         "last_modified_timestamp"],
        [[apt["id"], "Renamed", "Zillow", "1234.56", "USD", "01/01/2021", "True", "01/04/2025"],
         [new_id, "Brand new", "Airbnb", "999.99", "EUR", "15/03/2025", "True", "01/04/2025"]],
    )  # fmt: skip
    write_csv(
        tmp_path / "apartment_attributes.csv",
        ["id", "category", "body", "amenities", "bathrooms", "bedrooms", "fee", "has_photo",
         "pets_allowed", "price_display", "price_type", "square_feet", "address", "cityname",
         "state", "latitude", "longitude"],
        [[new_id, "Studio", "x", "Gym", "1", "1", "50", "True", "", "$999.99", "Monthly", "500",
          "1 Main St", "Reno", "Nevada", "1.5", "2.5"]],
    )  # fmt: skip
    b = changed
    write_csv(
        tmp_path / "bookings.csv",
        ["booking_id", "user_id", "apartment_id", "booking_date", "checkin_date", "checkout_date",
         "total_price", "currency", "booking_status"],
        [[b["booking_id"], b["user_id"], b["apartment_id"], b["booking_date"].strftime("%d/%m/%Y"),
          b["checkin_date"].strftime("%d/%m/%Y"), b["checkout_date"].strftime("%d/%m/%Y"),
          str(b["total_price"]), b["currency"], new_status],
         [10_000_000, 1, new_id, "30/03/2025", "01/04/2025", "05/04/2025", "400.00", "EUR", "confirmed"],
         [10_000_001, 1, new_id, "31/03/2025", "04/04/2025", "06/04/2025", "100.00", "EUR", "Confirmed "]],
    )  # fmt: skip
    rentals(home, "source", "import", str(tmp_path))
    rentals(home, "run", "--run-date", "2025-04-01")
    assert_views_match_source(settings, warehouse)
    _, rows = warehouse.query(
        "select listing_id, price, cityname from curated.dim_listings where listing_id in (%s, %s)"
        " order by 1",
        (apt["id"], new_id),
    )
    assert rows[0][1] == Decimal("1234.56") and rows[1][2] == "Reno"

    after_change = snapshot(warehouse)
    rentals(home, "run", "--run-date", "2025-04-01")
    assert snapshot(warehouse) == after_change

    assert_report_page_in_browser(home, warehouse, tmp_path, capsys)
