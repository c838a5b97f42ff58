"""The `rentals` command's contracts that users and acceptance checks rely on."""

from __future__ import annotations

import os
import subprocess
import sys
from html.parser import HTMLParser

from rental_analytics.report import KPI_VIEWS


def rentals(home, *args, check=True):
    proc = subprocess.run(
        [sys.executable, "-m", "rental_analytics.cli", *args],
        env={**os.environ, "RENTALS_HOME": str(home)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


def test_sql_csv_stdout_holds_only_header_and_rows(stack_home, warehouse):
    proc = rentals(
        stack_home, "sql",
        "select 1 as n, cast(2.50 as numeric(5,2)) as amount, null as nothing, true as flag,"
        " date '2024-02-29' as day, 'a,\"b' as text",
        "--format", "csv",
    )  # fmt: skip
    assert proc.stdout == 'n,amount,nothing,flag,day,text\n1,2.50,,true,2024-02-29,"a,""b"\n'


def test_sql_error_is_a_message_not_a_traceback(stack_home, warehouse):
    proc = rentals(stack_home, "sql", "select * from presentation.no_such_view", check=False)
    assert proc.returncode != 0
    assert "no_such_view" in proc.stderr and "Traceback" not in proc.stderr


def test_report_html_is_self_contained(stack_home, warehouse, tmp_path):
    warehouse.execute(
        "insert into curated.dim_listings (listing_id, price, currency, listing_created_on,"
        " is_active, cityname, state) values (1, 100.00, 'USD', '2024-01-01', true, 'Reno', 'NV')"
    )
    warehouse.execute(
        "insert into curated.fact_bookings (booking_id, listing_id, user_id, booking_date,"
        " checkin_date, checkout_date, nights, total_price, currency)"
        " values (1, 1, 7, '2024-01-02', '2024-01-03', '2024-01-05', 2, 50.00, 'USD')"
    )
    page = tmp_path / "kpis.html"
    rentals(stack_home, "report", "--html", str(page))
    text = page.read_text()
    assert "<code>presentation.vw_occupancy_rate_monthly</code>" in text
    # A chart per KPI with rows: the seven apartments views fed above and the rental summary
    # (always one row); the five other vehicle views are empty and say so.
    assert len(KPI_VIEWS) == 13
    assert text.count('class="plotly-graph-div"') == 8 and text.count("no rows yet") == 5
    refs = []

    class Refs(HTMLParser):
        def handle_starttag(self, tag, attrs):
            refs.extend(v for k, v in attrs if k in ("src", "href"))

    Refs().feed(text)
    assert refs == []


def test_bookmarks_commands(stack_home, tmp_path):
    assert "table" in rentals(stack_home, "bookmarks", "show").stdout
    proc = rentals(stack_home, "bookmarks", "rewind", "1999-01-01-01", check=False)
    assert proc.returncode != 0 and "no committed batch" in proc.stderr
    proc = rentals(stack_home, "bookmarks", "reset", "no_such_table", check=False)
    assert proc.returncode != 0 and "unknown table" in proc.stderr


def test_bad_run_date_is_refused(stack_home):
    proc = rentals(stack_home, "run", "--run-date", "31/03/2025", check=False)
    assert proc.returncode != 0 and "YYYY-MM-DD" in proc.stderr


def test_a_second_run_in_the_same_home_is_refused_at_once(stack_home):
    import time

    from rental_analytics.local.run_lock import RunLock

    with RunLock(stack_home).acquire(started_at="2026-11-23T02:00:00+00:00") as lock:
        lock.record("2026-11-23_first", "arn:aws:states:us-east-1:123456789012:execution:x:y")
        started = time.monotonic()
        proc = rentals(stack_home, "run", "--run-date", "2026-11-23", check=False)
        assert time.monotonic() - started < 15  # refused, not queued behind the first
    assert proc.returncode != 0
    assert "run 2026-11-23_first" in proc.stderr and "one run at a time" in proc.stderr


def test_run_with_no_source_data_at_all_succeeds(stack_home, settings, warehouse):
    """No tables yet, then empty tables: both are normal, successful runs."""
    import shutil

    from rental_analytics.local import source_db

    with source_db.connect(settings) as conn, conn.cursor() as cur:
        for t in ("apartments", "apartment_attributes", "bookings", "user_viewing"):
            cur.execute(f"drop table if exists {t}")
        conn.commit()
    shutil.rmtree(stack_home / "bookmarks", ignore_errors=True)
    shutil.rmtree(stack_home / "landing", ignore_errors=True)  # and no landed file
    proc = rentals(stack_home, "run", "--run-date", "2025-01-01")
    assert "succeeded" in proc.stderr
    assert warehouse.query("select count(*) from raw_data.load_batches")[1] == [(0,)]
    assert warehouse.query("select count(*) from presentation.vw_occupancy_rate_monthly")[1] == [
        (0,)
    ]
