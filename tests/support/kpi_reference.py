"""The apartments KPIs of SPEC section 6, computed independently in plain Python from the
source rows (not from the warehouse), to check the presentation views row by row.

Written from the SPEC's words, not from the SQL: weeks start Monday, months on the 1st,
money and averages rounded half-up to 2 decimals, rates to 4, RANK semantics with ties.
Groups whose key would be NULL (no date, no user, no listing) are left out, as the views
do: an analyst has no use for a "week NULL" or "top listing NULL" row.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
RATE = Decimal("0.0001")


def week(d):
    return None if d is None else d - timedelta(days=d.weekday())


def month(d):
    return None if d is None else d.replace(day=1)


def next_month(m: date) -> date:
    return (m.replace(day=28) + timedelta(days=4)).replace(day=1)


def avg2(values) -> Decimal:
    values = [Decimal(v) for v in values if v is not None]
    return (sum(values) / len(values)).quantize(CENT, ROUND_HALF_UP) if values else None


def rate4(a: int, b: int) -> Decimal:
    return (Decimal(a) / Decimal(b)).quantize(RATE, ROUND_HALF_UP) if b else None


def ranks(values: list) -> list[int]:
    """SQL RANK() over values ordered descending, NULLs last."""

    def ahead(o, v):
        return o is not None and (v is None or o > v)

    return [1 + sum(1 for o in values if ahead(o, v)) for v in values]


def norm_currency(c):
    return None if c is None else c.strip().upper()


def listings(apartments, attributes):
    attrs = {a["id"]: a for a in attributes}
    out = {}
    for a in apartments:
        at = attrs.get(a["id"], {})
        out[a["id"]] = {
            **a,
            "currency": norm_currency(a["currency"]),
            "cityname": at.get("cityname"),
            "state": at.get("state"),
        }
    return out


def fact_bookings(bookings):
    return [
        {
            **b,
            "currency": norm_currency(b["currency"]),
            "nights": (b["checkout_date"] - b["checkin_date"]).days,
        }
        for b in bookings
        if (b["booking_status"] or "").strip().lower() == "confirmed"
        and b["checkin_date"] is not None
        and b["checkout_date"] is not None
        and b["checkout_date"] > b["checkin_date"]
    ]


def vw_avg_listing_price_weekly(lst):
    groups = defaultdict(list)
    for x in lst.values():
        if x["is_active"] and x["listing_created_on"] is not None:
            groups[(week(x["listing_created_on"]), x["currency"])].append(x["price"])
    return {(w, c, len(p), avg2(p)) for (w, c), p in groups.items()}


def vw_occupancy_rate_monthly(lst, facts):
    booked = defaultdict(set)  # month -> {(listing, night)}
    for b in facts:
        x = lst.get(b["apartment_id"])
        if not x or x["listing_created_on"] is None:
            continue
        night = max(b["checkin_date"], x["listing_created_on"])
        while night < b["checkout_date"]:
            booked[month(night)].add((x["id"], night))
            night += timedelta(days=1)
    booked = {m: s for m, s in booked.items() if s}
    if not booked:
        return set()
    rows, m = set(), min(booked)
    while m <= max(booked):
        end = next_month(m)
        available = sum(
            max(0, (end - max(m, x["listing_created_on"])).days)
            for x in lst.values()
            if x["listing_created_on"] is not None
        )
        n = len(booked.get(m, ()))
        rows.add((m, available, n, rate4(n, available)))
        m = end
    return rows


def _ranked(groups: dict, partition, measure, keep=10):
    by_part = defaultdict(list)
    for key, value in groups.items():
        by_part[partition(key)].append((key, value))
    out = []
    for items in by_part.values():
        for (key, value), r in zip(items, ranks([measure(v) for _, v in items]), strict=True):
            if r <= keep:
                out.append((key, value, r))
    return out


def vw_popular_locations_weekly(lst, facts):
    groups = defaultdict(int)
    for b in facts:
        x = lst.get(b["apartment_id"])
        if x and x["cityname"] is not None and b["booking_date"] is not None:
            groups[(week(b["booking_date"]), x["cityname"], x["state"])] += 1
    return {(k[0], k[1], k[2], n, r) for k, n, r in _ranked(groups, lambda k: k[0], lambda v: v)}


def vw_top_listings_weekly(facts):
    groups = defaultdict(lambda: [0, None])
    for b in facts:
        if b["booking_date"] is None or b["apartment_id"] is None:
            continue
        g = groups[(week(b["booking_date"]), b["currency"], b["apartment_id"])]
        g[0] += 1
        if b["total_price"] is not None:  # SUM ignores NULLs; all NULL -> NULL
            g[1] = (g[1] or Decimal(0)) + b["total_price"]
    ranked = _ranked(groups, lambda k: (k[0], k[1]), lambda v: v[1])
    return {
        (k[0], k[1], k[2], v[0], None if v[1] is None else v[1].quantize(CENT), r)
        for k, v, r in ranked
    }


def vw_bookings_per_user_weekly(facts):
    groups = defaultdict(int)
    for b in facts:
        if b["booking_date"] is not None and b["user_id"] is not None:
            groups[(week(b["booking_date"]), b["user_id"])] += 1
    return {(w, u, n) for (w, u), n in groups.items()}


def vw_avg_booking_duration(facts):
    groups = defaultdict(list)
    for b in facts:
        groups[month(b["checkin_date"])].append(b["nights"])
    return {(m, len(n), avg2(n)) for m, n in groups.items()}


def vw_repeat_customer_rate(facts):
    by_user = defaultdict(list)
    for b in facts:
        if b["user_id"] is not None:
            by_user[b["user_id"]].append(b)
    active, repeat = defaultdict(set), defaultdict(set)
    for b in facts:
        if b["user_id"] is None or b["booking_date"] is None:
            continue
        m = month(b["booking_date"])
        active[m].add(b["user_id"])
        for o in by_user[b["user_id"]]:
            if (
                o["booking_id"] != b["booking_id"]
                and o["booking_date"] is not None
                and b["booking_date"] - timedelta(days=30) <= o["booking_date"] <= b["booking_date"]
            ):
                repeat[m].add(b["user_id"])
                break
    return {(m, len(u), len(repeat[m]), rate4(len(repeat[m]), len(u))) for m, u in active.items()}


def all_kpis(apartments, attributes, bookings) -> dict[str, set[tuple]]:
    lst = listings(apartments, attributes)
    facts = fact_bookings(bookings)
    return {
        "vw_avg_listing_price_weekly": vw_avg_listing_price_weekly(lst),
        "vw_occupancy_rate_monthly": vw_occupancy_rate_monthly(lst, facts),
        "vw_popular_locations_weekly": vw_popular_locations_weekly(lst, facts),
        "vw_top_listings_weekly": vw_top_listings_weekly(facts),
        "vw_bookings_per_user_weekly": vw_bookings_per_user_weekly(facts),
        "vw_avg_booking_duration": vw_avg_booking_duration(facts),
        "vw_repeat_customer_rate": vw_repeat_customer_rate(facts),
    }
