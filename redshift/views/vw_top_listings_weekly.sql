-- presentation.vw_top_listings_weekly: the ten listings with the highest confirmed-booking
-- revenue each booking week, per currency (ties share a rank, so more than ten rows may show).
-- Grain: one row per (week_start, currency, listing_id). Key: (week_start, currency, listing_id).
-- Revenue is never summed across currencies. Bookings without a listing or a booking_date
-- belong to no row; a listing whose prices are all NULL ranks last.
create or replace view presentation.vw_top_listings_weekly as
with

bookings as (
    select * from curated.fact_bookings
    where
        listing_id is not null
        and booking_date is not null
),

bookings_with_week as (
    select
        cast(date_trunc('week', cast(booking_date as timestamp)) as date) as week_start,
        currency,
        listing_id,
        total_price
    from bookings
),

revenue_per_listing_week as (
    select
        week_start,
        currency,
        listing_id,
        cast(count(*) as bigint) as bookings,
        cast(sum(total_price) as numeric(14, 2)) as revenue
    from bookings_with_week
    group by week_start, currency, listing_id
),

ranked_listings as (
    select
        week_start,
        currency,
        listing_id,
        bookings,
        revenue,
        rank() over (
            partition by week_start, currency
            order by revenue desc nulls last
        ) as revenue_rank
    from revenue_per_listing_week
),

final as (
    select
        week_start,
        currency,
        listing_id,
        bookings,
        revenue,
        revenue_rank
    from ranked_listings
    where revenue_rank <= 10
)

select * from final;
