"""KPI report over the presentation views: terminal tables or one self-contained HTML page."""

from __future__ import annotations

import html
from dataclasses import dataclass
from decimal import Decimal

from rental_analytics.warehouse.base import Warehouse

# view -> (ordering for the report, column charted as bars, label column)
KPI_VIEWS: dict[str, tuple[str, str, str]] = {
    "vw_avg_listing_price_weekly": ("week_start desc, currency", "avg_price", "week_start"),
    "vw_occupancy_rate_monthly": ("month_start desc", "occupancy_rate", "month_start"),
    "vw_popular_locations_weekly": ("week_start desc, booking_rank", "bookings", "cityname"),
    "vw_top_listings_weekly": ("week_start desc, currency, revenue_rank", "revenue", "listing_id"),
    "vw_bookings_per_user_weekly": (
        "week_start desc, bookings desc, user_id",
        "bookings",
        "user_id",
    ),
    "vw_avg_booking_duration": ("month_start desc", "avg_nights", "month_start"),
    "vw_repeat_customer_rate": ("month_start desc", "repeat_customer_rate", "month_start"),
    "vw_rental_business_summary": ("transactions", "revenue", "transactions"),
    "vw_vehicle_type_performance": ("revenue desc, vehicle_type", "revenue", "vehicle_type"),
    "vw_location_performance": ("revenue desc, location_id", "revenue", "location_name"),
    "vw_top_revenue_days": ("revenue_rank, rental_date", "revenue", "rental_date"),
    "vw_daily_transaction_metrics": ("rental_date desc", "revenue", "rental_date"),
    "vw_user_engagement_metrics": ("total_spent desc, user_id", "total_spent", "user_id"),
}


@dataclass
class Kpi:
    view: str
    columns: list[str]
    rows: list[tuple]
    chart_column: str
    label_column: str

    def preview(self, limit: int) -> list[tuple]:
        return self.rows[:limit]


def collect_kpis(wh: Warehouse) -> list[Kpi]:
    _, present = wh.query(
        "select table_name from information_schema.views where table_schema = 'presentation'"
    )
    names = {r[0] for r in present}
    kpis = []
    for view, (order, chart, label) in KPI_VIEWS.items():
        if view not in names:
            continue
        columns, rows = wh.query(f"select * from presentation.{view} order by {order}")  # noqa: S608
        kpis.append(Kpi(view, columns, rows, chart, label))
    return kpis


def _bars(kpi: Kpi, limit: int = 24) -> str:
    ci, li = kpi.columns.index(kpi.chart_column), kpi.columns.index(kpi.label_column)
    points = [(str(r[li]), float(r[ci] or 0)) for r in kpi.rows[:limit]][::-1]
    if not points:
        return "<p>no rows</p>"
    top = max(v for _, v in points) or 1.0
    bar_w, gap, height = 26, 6, 160
    width = len(points) * (bar_w + gap) + 10
    parts = [f'<svg width="{width}" height="{height + 70}" role="img">']
    for i, (label, value) in enumerate(points):
        h = value / top * height
        x = 5 + i * (bar_w + gap)
        parts.append(
            f'<rect x="{x}" y="{height - h:.1f}" width="{bar_w}" height="{h:.1f}" fill="#3b6ea8">'
            f"<title>{html.escape(label)}: {value:g}</title></rect>"
            f'<text x="{x + bar_w / 2}" y="{height + 8}" font-size="9" '
            f'transform="rotate(60 {x + bar_w / 2} {height + 8})">{html.escape(label)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _cell(v) -> str:
    if v is None:
        return ""
    if isinstance(v, Decimal):
        return f"{v}"
    return html.escape(str(v))


def render_html(kpis: list[Kpi], rows_per_table: int = 50) -> str:
    sections = []
    for kpi in kpis:
        head = "".join(f"<th>{html.escape(c)}</th>" for c in kpi.columns)
        body = "".join(
            "<tr>" + "".join(f"<td>{_cell(v)}</td>" for v in row) + "</tr>"
            for row in kpi.rows[:rows_per_table]
        )
        sections.append(
            f"<section><h2>presentation.{kpi.view}</h2>"
            f"<p>{len(kpi.rows):,} rows; chart: {kpi.chart_column} by {kpi.label_column}"
            f" (latest first)</p>{_bars(kpi)}"
            f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></section>"
        )
    style = (
        "body{font-family:system-ui,sans-serif;margin:2em;color:#222}"
        "table{border-collapse:collapse;font-size:12px;margin-top:1em}"
        "td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}"
        "section{margin-bottom:3em}"
    )
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>Rental KPIs</title>"
        f"<style>{style}</style></head><body><h1>Rental marketplace KPIs</h1>"
        + "".join(sections)
        + "</body></html>"
    )
