-- presentation.vw_avg_listing_price_weekly: average asking price of the active listings created
-- each week, per currency (amounts in different currencies are never averaged together).
-- Grain: one row per (week_start, currency). Key: (week_start, currency).
-- Weeks start Monday. avg_price is rounded half-up to 2 decimals over non-NULL prices;
-- active_listings counts every active listing of the group.
create or replace view presentation.vw_avg_listing_price_weekly as
with

listings as (
    select * from curated.dim_listings
),

active_listings as (
    select
        cast(date_trunc('week', cast(listing_created_on as timestamp)) as date) as week_start,
        currency,
        price
    from listings
    where
        is_active
        and listing_created_on is not null
),

final as (
    select
        week_start,
        currency,
        cast(count(*) as bigint) as active_listings,
        cast(round(avg(cast(price as numeric(18, 6))), 2) as numeric(14, 2)) as avg_price
    from active_listings
    group by week_start, currency
)

select * from final;
