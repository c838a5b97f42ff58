-- presentation.vw_popular_locations_weekly: the ten cities with the most confirmed bookings
-- each booking week (ties share a rank, so a week may show more than ten rows).
-- Grain: one row per (week_start, cityname, state). Key: (week_start, cityname, state).
-- The city is the listing's current one in dim_listings (joined at query time, so a late-arriving
-- listing is attributed once it arrives); bookings of unknown listings or NULL cities are left out.
create or replace view presentation.vw_popular_locations_weekly as
with

bookings as (
    select * from curated.fact_bookings
    where booking_date is not null
),

listings as (
    select * from curated.dim_listings
    where cityname is not null
),

bookings_with_city as (
    select
        cast(date_trunc('week', cast(bookings.booking_date as timestamp)) as date) as week_start,
        listings.cityname,
        listings.state
    from bookings
    inner join listings
        on bookings.listing_id = listings.listing_id
),

bookings_per_city_week as (
    select
        week_start,
        cityname,
        state,
        cast(count(*) as bigint) as bookings
    from bookings_with_city
    group by week_start, cityname, state
),

ranked_cities as (
    select
        week_start,
        cityname,
        state,
        bookings,
        rank() over (partition by week_start order by bookings desc) as booking_rank
    from bookings_per_city_week
),

final as (
    select
        week_start,
        cityname,
        state,
        bookings,
        booking_rank
    from ranked_cities
    where booking_rank <= 10
)

select * from final;
