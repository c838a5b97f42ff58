"""The KPI report's data: how fresh it is, the headline figures and the thirteen views.

Read through one ``Warehouse``-like connection (``query(sql) -> (columns, rows)``): the
local PostgreSQL or, with ``rentals report --target redshift``, the deployed Redshift as
the analyst (rental_analytics/warehouse/analyst.py). Drawn by report_html.py (the page)
and the ``rentals report`` command (the terminal).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from rental_analytics.runs import RunLedger

KPI_DICTIONARY = Path(__file__).resolve().parents[1] / "docs" / "kpi_dictionary.md"

# view -> ordering for the report (the first rows are what the terminal shows)
KPI_VIEWS: dict[str, str] = {
    "vw_avg_listing_price_weekly": "week_start desc, currency",
    "vw_occupancy_rate_monthly": "month_start desc",
    "vw_popular_locations_weekly": "week_start desc, booking_rank, cityname, state",
    "vw_top_listings_weekly": "week_start desc, currency, revenue_rank, listing_id",
    "vw_bookings_per_user_weekly": "week_start desc, bookings desc, user_id",
    "vw_avg_booking_duration": "month_start desc",
    "vw_repeat_customer_rate": "month_start desc",
    "vw_rental_business_summary": "transactions",
    "vw_vehicle_type_performance": "revenue desc, vehicle_type",
    "vw_location_performance": "revenue desc, location_id",
    "vw_top_revenue_days": "revenue_rank, rental_date",
    "vw_daily_transaction_metrics": "rental_date desc",
    "vw_user_engagement_metrics": "total_spent desc, user_id",
}


@dataclass
class Kpi:
    view: str
    columns: list[str]
    rows: list[tuple]
    definition: str = ""

    def preview(self, limit: int) -> list[tuple]:
        return self.rows[:limit]

    def column(self, name: str) -> list:
        i = self.columns.index(name)
        return [r[i] for r in self.rows]

    def as_dicts(self) -> list[dict]:
        return [dict(zip(self.columns, r, strict=True)) for r in self.rows]


@dataclass
class Freshness:
    run_id: str | None = None
    run_date: str | None = None
    ended_at: str | None = None
    row_counts: dict[str, int] = field(default_factory=dict)
    note: str = ""

    def line(self) -> str:
        if self.run_id:
            run = f"last successful run {self.run_id} (run date {self.run_date}, ended {self.ended_at})"
        else:
            run = "no successful run in the run ledger"
        counts = ", ".join(f"{t} {n:,}" for t, n in self.row_counts.items())
        return "; ".join(p for p in (run, counts and f"curated rows: {counts}", self.note) if p)


@dataclass
class Headline:
    label: str
    value: str  # exact, as the view holds it ('' when there is no value)
    shown: str  # for reading
    source: str  # the view it comes from


@dataclass
class Report:
    freshness: Freshness
    headlines: dict[str, list[Headline]]  # domain -> figures
    kpis: list[Kpi]


def kpi_definitions(path: Path = KPI_DICTIONARY) -> dict[str, str]:
    """Each view's row of docs/kpi_dictionary.md as one sentence: 'grain: columns'."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return {}
    found = {}
    for m in re.finditer(r"^\| `(vw_\w+)` \| (.+?) \| (.+?) \|\s*$", text, re.M):
        grain, columns = (re.sub(r"`", "", g).strip() for g in m.group(2, 3))
        found[m.group(1)] = f"One row per {grain}. {columns}"
    return found


def last_successful_run(ledger: RunLedger | None) -> Freshness:
    if ledger is None:
        return Freshness(note="the run ledger is kept where the pipeline runs, not read here")
    for record in ledger.recent(limit=1000):
        if record.succeeded:
            return Freshness(
                record.run_id, record.run_date, record.ended_at, _curated_rows_of(record)
            )
    return Freshness()


def _curated_rows_of(record) -> dict[str, int]:
    """Each curated table's row count after the run's curate job, from its metrics: the
    analyst, who reads presentation only (SPEC 8), does not count the tables."""
    counts: dict[str, int] = {}
    for step in record.steps:
        metrics = step.attempts[-1].metrics if step.attempts else {}
        for merge in metrics.get("merges", []):
            if "rows_total" in merge:
                counts[merge["target"]] = int(merge["rows_total"])
    return dict(sorted(counts.items()))


def curated_row_counts(wh) -> tuple[dict[str, int], str]:
    """Row counts of the curated tables; a note instead when this identity cannot read them."""
    try:
        _, present = wh.query(
            "select table_name from information_schema.tables where table_schema = 'curated'"
        )
        counts = {}
        for table in sorted(r[0] for r in present):
            _, rows = wh.query(f'select count(*) from curated."{table}"')  # noqa: S608
            counts[table] = int(rows[0][0])
        return counts, ""
    except Exception as exc:  # noqa: BLE001 - a permission error is reported, not fatal
        return {}, f"curated row counts not readable here ({str(exc).splitlines()[0]})"


def collect_kpis(wh) -> list[Kpi]:
    _, present = wh.query(
        "select table_name from information_schema.views where table_schema = 'presentation'"
    )
    names = {r[0] for r in present}
    definitions = kpi_definitions()
    kpis = []
    for view, order in KPI_VIEWS.items():
        if view not in names:
            continue
        columns, rows = wh.query(f"select * from presentation.{view} order by {order}")  # noqa: S608
        kpis.append(Kpi(view, columns, rows, definitions.get(view, "")))
    return kpis


def _shown(value, kind: str) -> str:
    if value is None:
        return "n/a"
    if kind == "rate":
        return f"{Decimal(value) * 100:.1f} %"
    if kind == "count":
        return f"{int(value):,}"
    if kind == "money":
        return f"{Decimal(value):,.2f}"
    return str(value)


def headlines(kpis: list[Kpi]) -> dict[str, list[Headline]]:
    by = {k.view: k for k in kpis}
    out: dict[str, list[Headline]] = {"vehicle rentals": [], "apartments": []}
    summary = by.get("vw_rental_business_summary")
    if summary and summary.rows:
        row = summary.as_dicts()[0]
        for col, label, kind in (
            ("revenue", "revenue", "money"),
            ("transactions", "transactions", "count"),
            ("unique_users", "customers", "count"),
            ("unique_vehicles", "vehicles", "count"),
            ("avg_amount", "average amount", "money"),
            ("avg_duration_hours", "average rental (hours)", "number"),
        ):
            v = row[col]
            out["vehicle rentals"].append(
                Headline(label, "" if v is None else str(v), _shown(v, kind), summary.view)
            )
    for view, col, label, kind in (
        ("vw_occupancy_rate_monthly", "occupancy_rate", "occupancy", "rate"),
        ("vw_repeat_customer_rate", "repeat_customer_rate", "repeat customers", "rate"),
        ("vw_avg_booking_duration", "avg_nights", "average stay (nights)", "number"),
    ):
        kpi = by.get(view)
        if kpi and kpi.rows:  # ordered newest month first
            latest = kpi.as_dicts()[0]
            v = latest[col]
            out["apartments"].append(
                Headline(
                    f"{label}, {latest['month_start']:%B %Y}",
                    "" if v is None else str(v),
                    _shown(v, kind),
                    view,
                )
            )
    return out


def build_report(wh, ledger: RunLedger | None) -> Report:
    """Everything the page and the terminal show, read once."""
    freshness = last_successful_run(ledger)
    if not freshness.row_counts:
        freshness.row_counts, note = curated_row_counts(wh)
        freshness.note = "; ".join(n for n in (freshness.note, note) if n)
    kpis = collect_kpis(wh)
    return Report(freshness, headlines(kpis), kpis)
