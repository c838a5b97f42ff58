"""Redshift functions the local PostgreSQL lacks, with Redshift's semantics
(sqlcheck: postgres-only).

The warehouse SQL in ``redshift/`` is Redshift SQL. Where Redshift documents a function
PostgreSQL does not have, it is defined here, once, and created by the local stack's setup
(``local/stack.py``, as the database's owner): jobs never create objects.

- ``DATEDIFF(datepart, a, b)`` counts the datepart boundaries crossed from a to b, as a
  BIGINT (AWS docs: r_DATEDIFF_function): ``datediff(day, '2024-01-01 23:59', '2024-01-02
  00:01')`` is 1, and ``datediff(second, a, b)`` is exact for whole-second timestamps.
- ``DATEADD(datepart, n, t)`` is ``t`` plus n dateparts, a TIMESTAMP (r_DATEADD_function).

Redshift writes the datepart as a bare word (``day``); PostgreSQL would read it as a
column, so the PostgreSQL adapter (``warehouse/sqltext.py``: ``postgres_dateparts``) quotes
it: ``datediff('day', a, b)``.
"""

from __future__ import annotations

import psycopg

from rental_analytics.config import DatabaseSettings

# Names and the plural forms Redshift accepts for each datepart this project may use.
DATEPARTS = {
    "second": ("second", "seconds", "sec", "secs"),
    "minute": ("minute", "minutes", "min", "mins"),
    "hour": ("hour", "hours", "hr", "hrs"),
    "day": ("day", "days", "d"),
    "week": ("week", "weeks", "w"),
    "month": ("month", "months", "mon", "mons"),
    "quarter": ("quarter", "quarters", "qtr", "qtrs"),
    "year": ("year", "years", "y", "yr", "yrs"),
}


def _canonical_case() -> str:
    arms = "\n".join(
        f"        when p in ({', '.join(repr(a) for a in aliases)}) then '{name}'"
        for name, aliases in DATEPARTS.items()
    )
    return f"case\n{arms}\n    end"


COMPAT_SQL = f"""
create or replace function public.redshift_datepart(part text) returns text
language plpgsql immutable strict as $$
declare
    p text := lower(trim(part));
    name text := {_canonical_case()};
begin
    if name is null then
        raise exception 'datepart % is not supported here (Redshift dateparts: %)',
            part, '{", ".join(DATEPARTS)}';
    end if;
    return name;
end
$$;

create or replace function public.datediff(part text, a timestamp, b timestamp)
returns bigint language plpgsql immutable strict as $$
declare
    unit text := public.redshift_datepart(part);
begin
    if unit in ('second', 'minute', 'hour', 'day', 'week') then
        -- Boundaries crossed: the difference of both ends truncated to the unit.
        return cast(
            (extract(epoch from date_trunc(unit, b)) - extract(epoch from date_trunc(unit, a)))
            / case unit when 'second' then 1 when 'minute' then 60 when 'hour' then 3600
                        when 'day' then 86400 else 604800 end
            as bigint);
    elsif unit = 'month' then
        return (extract(year from b) * 12 + extract(month from b))
             - (extract(year from a) * 12 + extract(month from a));
    elsif unit = 'quarter' then
        return (extract(year from b) * 4 + extract(quarter from b))
             - (extract(year from a) * 4 + extract(quarter from a));
    else
        return extract(year from b) - extract(year from a);
    end if;
end
$$;

create or replace function public.dateadd(part text, n bigint, t timestamp)
returns timestamp language plpgsql immutable strict as $$
declare
    unit text := public.redshift_datepart(part);
begin
    if unit = 'quarter' then
        return t + make_interval(months => cast(3 * n as integer));
    end if;
    return t + cast(n || ' ' || unit as interval);
end
$$;
"""


def install(db: DatabaseSettings) -> None:
    """Create (or replace) the functions in ``db``, connected as its owner."""
    with psycopg.connect(
        host=db.host, port=db.port, user=db.user, password=db.password, dbname=db.database,
        autocommit=True,
    ) as conn:  # fmt: skip
        conn.execute(COMPAT_SQL)
