"""The KPI report as one self-contained HTML page: plotly charts, plotly.js inline.

One chart per view, chosen for what it shows: time series as lines, rankings (of the
latest week where the view has weeks) as horizontal bars, distributions as histograms.
Money is never added across currencies: a view with a currency column gets one panel per
currency, each with its own y axis titled with the currency, and each trace carries its
currency in ``meta`` so the browser test can check it.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from decimal import Decimal

import plotly.graph_objects as go
from plotly.offline import get_plotlyjs
from plotly.subplots import make_subplots

from rental_analytics.report import Kpi, Report

TABLE_ROWS = 10
# The vehicle domain's amounts carry no currency code: one (unnamed) currency.
VEHICLE_MONEY = "amount"


def _num(v):
    return float(v) if isinstance(v, Decimal) else v


def _pct(v):
    return None if v is None else float(v) * 100


def _line(kpi: Kpi, x: str, y: str, name: str, unit: str, scale=_num) -> go.Figure:
    rows = sorted(kpi.as_dicts(), key=lambda r: r[x])
    fig = go.Figure(
        go.Scatter(
            x=[r[x] for r in rows],
            y=[scale(r[y]) for r in rows],
            mode="lines+markers",
            name=name,
            meta={"currency": unit if unit == VEHICLE_MONEY else None},
            hovertemplate=f"%{{x}}<br>{name}: %{{y:,.2f}} {unit}<extra></extra>",
        )
    )
    fig.update_xaxes(title_text=x.replace("_", " "))
    fig.update_yaxes(title_text=f"{name} ({unit})")
    return fig


def _per_currency(kpi: Kpi, draw: Callable[[list[dict], str], go.BaseTraceType], y: str):
    """One panel per currency, each with its own y axis: amounts never share an axis."""
    rows = kpi.as_dicts()
    currencies = sorted({r["currency"] for r in rows})
    fig = make_subplots(
        rows=len(currencies),
        cols=1,
        subplot_titles=currencies,
        vertical_spacing=0.25 / max(len(currencies), 1),
    )
    for i, cur in enumerate(currencies, start=1):
        trace = draw([r for r in rows if r["currency"] == cur], cur)
        trace.meta = {"currency": cur}
        fig.add_trace(trace, row=i, col=1)
        fig.update_yaxes(title_text=f"{y} ({cur})", row=i, col=1)
    fig.update_layout(height=max(320, 230 * len(currencies)), showlegend=False)
    return fig


def _latest(rows: list[dict], key: str) -> tuple[object, list[dict]]:
    latest = max((r[key] for r in rows), default=None)
    return latest, [r for r in rows if r[key] == latest]


def _hbar(labels, values, name: str, unit: str, currency=None) -> go.Bar:
    return go.Bar(
        x=[_num(v) for v in values][::-1],
        y=[str(lb) for lb in labels][::-1],
        orientation="h",
        name=name,
        meta={"currency": currency},
        hovertemplate=f"%{{y}}<br>{name}: %{{x:,.2f}} {unit}<extra></extra>",
    )


def _ranked(kpi: Kpi, label: Callable[[dict], str], value: str, unit: str, limit=15, money=False):
    rows = sorted(kpi.as_dicts(), key=lambda r: r[value] or 0, reverse=True)[:limit]
    fig = go.Figure(
        _hbar(
            [label(r) for r in rows],
            [r[value] for r in rows],
            value.replace("_", " "),
            unit,
            VEHICLE_MONEY if money else None,
        )  # fmt: skip
    )
    fig.update_xaxes(title_text=f"{value.replace('_', ' ')} ({unit})")
    fig.update_yaxes(type="category")  # dates and ids are names of bars here, not scales
    fig.update_layout(height=max(320, 26 * len(rows) + 120))
    return fig


def _histogram(values, what: str, unit: str, counted: str, currency=None) -> go.Figure:
    fig = go.Figure(
        go.Histogram(
            x=[_num(v) for v in values if v is not None],
            name=what,
            meta={"currency": currency},
            hovertemplate=f"{what}: %{{x}} {unit}<br>%{{y:,}} in this bin<extra></extra>",
        )
    )
    fig.update_xaxes(title_text=f"{what} ({unit})")
    fig.update_yaxes(title_text=counted)
    return fig


# -- one chart per view: (title in words, builder) -------------------------------------
def _avg_price(kpi: Kpi) -> go.Figure:
    def draw(rows, cur):
        rows = sorted(rows, key=lambda r: r["week_start"])
        return go.Scatter(
            x=[r["week_start"] for r in rows],
            y=[_num(r["avg_price"]) for r in rows],
            mode="lines+markers",
            name=cur,
            hovertemplate=f"week of %{{x}}<br>average price: %{{y:,.2f}} {cur}<extra></extra>",
        )

    fig = _per_currency(kpi, draw, "average price")
    fig.update_xaxes(title_text="week (listing created)", row=len(fig.data), col=1)
    return fig


def _popular_locations(kpi: Kpi) -> go.Figure:
    week, rows = _latest(kpi.as_dicts(), "week_start")
    fig = _ranked(
        Kpi(kpi.view, kpi.columns, [tuple(r.values()) for r in rows]),
        lambda r: f"{r['cityname']}, {r['state']}", "bookings", "bookings",
    )  # fmt: skip
    fig.update_layout(title_text=f"week of {week}")
    return fig


def _top_listings(kpi: Kpi) -> go.Figure:
    week, latest = _latest(kpi.as_dicts(), "week_start")

    def draw(rows, cur):
        rows = sorted(rows, key=lambda r: r["revenue"], reverse=True)
        return _hbar([f"listing {r['listing_id']}" for r in rows], [r["revenue"] for r in rows],
                     "revenue", cur, cur)  # fmt: skip

    fig = _per_currency(Kpi(kpi.view, kpi.columns, [tuple(r.values()) for r in latest]), draw,
                        "listing")  # fmt: skip
    fig.update_xaxes(title_text="revenue (in the panel's currency)", row=len(fig.data), col=1)
    fig.update_yaxes(type="category")
    fig.update_layout(title_text=f"week of {week}")
    return fig


def _summary(kpi: Kpi) -> go.Figure:
    row = kpi.as_dicts()[0]
    fig = go.Figure(
        _hbar(
            ["transactions", "customers", "vehicles"],
            [row["transactions"], row["unique_users"], row["unique_vehicles"]],
            "count",
            "count",
        )  # fmt: skip
    )
    fig.update_xaxes(title_text="count")
    return fig


CHARTS: dict[str, tuple[str, Callable[[Kpi], go.Figure]]] = {
    "vw_avg_listing_price_weekly": ("Average price of active listings, by week and currency",
                                    _avg_price),
    "vw_occupancy_rate_monthly": ("Occupancy by month", lambda k: _line(
        k, "month_start", "occupancy_rate", "occupancy", "%", _pct)),
    "vw_popular_locations_weekly": ("Most booked cities, latest week", _popular_locations),
    "vw_top_listings_weekly": ("Top listings by revenue, latest week, per currency",
                               _top_listings),
    "vw_bookings_per_user_weekly": ("Bookings per user per week", lambda k: _histogram(
        k.column("bookings"), "bookings per user per week", "bookings", "user-weeks")),
    "vw_avg_booking_duration": ("Average stay by month of check-in", lambda k: _line(
        k, "month_start", "avg_nights", "average stay", "nights")),
    "vw_repeat_customer_rate": ("Repeat customers by month", lambda k: _line(
        k, "month_start", "repeat_customer_rate", "repeat customers", "%", _pct)),
    "vw_rental_business_summary": ("Vehicle rentals at a glance", _summary),
    "vw_vehicle_type_performance": ("Revenue by vehicle type", lambda k: _ranked(
        k, lambda r: r["vehicle_type"], "revenue", VEHICLE_MONEY, money=True)),
    "vw_location_performance": ("Revenue by pickup location (top 15)", lambda k: _ranked(
        k, lambda r: f"{r['location_name']} ({r['location_id']})", "revenue", VEHICLE_MONEY,
        money=True)),
    "vw_top_revenue_days": ("Top revenue days", lambda k: _ranked(
        k, lambda r: f"{r['rental_date']}", "revenue", VEHICLE_MONEY, money=True)),
    "vw_daily_transaction_metrics": ("Revenue by day", lambda k: _line(
        k, "rental_date", "revenue", "revenue", VEHICLE_MONEY)),
    "vw_user_engagement_metrics": ("Spend per customer", lambda k: _histogram(
        k.column("total_spent"), "total spent per customer", VEHICLE_MONEY, "customers",
        VEHICLE_MONEY)),
}  # fmt: skip


def chart(kpi: Kpi) -> go.Figure | None:
    """The view's figure, or None when it has no rows to draw."""
    if not kpi.rows:
        return None
    title, build = CHARTS[kpi.view]
    fig = build(kpi)
    sub = fig.layout.title.text
    fig.update_layout(
        title_text=title + (f" <span style='font-size:12px'>({sub})</span>" if sub else ""),
        template="plotly_white",
        margin={"l": 70, "r": 30, "t": 60, "b": 60},
    )
    if fig.layout.height is None:
        fig.update_layout(height=340)
    return fig


def _cell(v) -> str:
    return "" if v is None else html.escape(str(v))


def _table(kpi: Kpi) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in kpi.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{_cell(v)}</td>" for v in row) + "</tr>"
        for row in kpi.preview(TABLE_ROWS)
    )
    shown = min(TABLE_ROWS, len(kpi.rows))
    return (
        f"<table><caption><code>presentation.{kpi.view}</code>: {shown} of {len(kpi.rows):,}"
        f" rows</caption><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    )


_CONFIG = {"displaylogo": False, "responsive": True}
_STYLE = (
    "body{font-family:'Liberation Sans',Arial,sans-serif;margin:1.5em auto;max-width:1100px;"
    "color:#222}header{border-bottom:1px solid #ddd;margin-bottom:1em}"
    ".fresh{color:#555;font-size:13px}.cards{display:flex;flex-wrap:wrap;gap:10px;margin:.5em 0}"
    ".card{border:1px solid #ddd;border-radius:6px;padding:8px 14px;min-width:130px}"
    ".card b{display:block;font-size:22px}.card small{color:#666}"
    "section{margin:2em 0 3em}.def{color:#555;font-size:13px;max-width:950px}"
    "table{border-collapse:collapse;font-size:12px;margin-top:.5em}"
    "caption{text-align:left;color:#555;padding:4px 0}"
    "td,th{border:1px solid #ddd;padding:2px 6px;text-align:right}"
)


def _cards(report: Report) -> str:
    parts = []
    for domain, figures in report.headlines.items():
        cards = "".join(
            f"<div class='card' data-headline='{html.escape(h.label)}'"
            f" data-value='{html.escape(h.value)}' data-source='{h.source}'>"
            f"<small>{html.escape(h.label)}</small><b>{html.escape(h.shown)}</b></div>"
            for h in figures
        )
        parts.append(
            f"<h3>{html.escape(domain)}</h3><div class='cards'>{cards or 'no data yet'}</div>"
        )
    return "".join(parts)


def render_html(report: Report) -> str:
    sections = []
    for kpi in report.kpis:
        title = CHARTS[kpi.view][0]
        fig = chart(kpi)
        drawn = (
            fig.to_html(
                full_html=False, include_plotlyjs=False, div_id=f"chart-{kpi.view}", config=_CONFIG
            )  # fmt: skip
            if fig is not None
            else "<p class='empty'>no rows yet</p>"
        )
        sections.append(
            f"<section class='kpi' data-view='{kpi.view}'><h2>{html.escape(title)}</h2>"
            f"<p class='def'>{html.escape(kpi.definition)}</p>{drawn}{_table(kpi)}</section>"
        )
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>Rental KPIs</title>"
        f"<style>{_STYLE}</style><script>{get_plotlyjs()}</script></head><body>"
        "<header><h1>Rental marketplace KPIs</h1>"
        f"<p class='fresh' id='freshness'>{html.escape(report.freshness.line())}</p>"
        f"{_cards(report)}</header>" + "".join(sections) + "</body></html>"
    )
