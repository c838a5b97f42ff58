-- presentation.vw_occupancy_rate_monthly: booked share of the available listing-nights per month.
-- Grain: one row per month_start, every month from the first to the last month containing a booked
-- night (months in between without bookings included). Key: month_start.
-- Every listing of dim_listings (whatever is_active) is available each night on/after its
-- listing_created_on; a listing without listing_created_on, or unknown to dim_listings, has none.
-- booked_nights counts distinct available (listing, night) pairs with night in [checkin, checkout):
-- overlapping stays of a listing are merged into islands first (gaps and islands), so a night is
-- counted once and no stay is expanded night by night (stays may last hundreds of nights).
-- available_nights is computed per listing-creation month, not per listing-night, for the same reason.
-- Month sequence: a recursive CTE (generate_series runs only on the Redshift leader node).
create or replace view presentation.vw_occupancy_rate_monthly as
with recursive

listings as (
    select
        listing_id,
        listing_created_on
    from curated.dim_listings
    where listing_created_on is not null
),

bookings as (
    select
        booking_id,
        listing_id,
        checkin_date,
        checkout_date
    from curated.fact_bookings
),

stays_with_reach_so_far as (
    select
        bookings.booking_id,
        bookings.listing_id,
        listings.listing_created_on,
        bookings.checkin_date,
        bookings.checkout_date,
        max(bookings.checkout_date) over (
            partition by bookings.listing_id
            order by bookings.checkin_date, bookings.checkout_date, bookings.booking_id
            rows between unbounded preceding and 1 preceding
        ) as previous_max_checkout_date
    from bookings
    inner join listings
        on bookings.listing_id = listings.listing_id
),

stays_numbered_by_island as (
    select
        listing_id,
        listing_created_on,
        checkin_date,
        checkout_date,
        sum(
            case
                when previous_max_checkout_date is null or checkin_date > previous_max_checkout_date then 1
                else 0
            end
        ) over (
            partition by listing_id
            order by checkin_date, checkout_date, booking_id
            rows between unbounded preceding and current row
        ) as island_number
    from stays_with_reach_so_far
),

islands as (
    select
        listing_id,
        island_number,
        greatest(min(checkin_date), listing_created_on) as island_start_date,
        max(checkout_date) as island_end_date
    from stays_numbered_by_island
    group by listing_id, island_number, listing_created_on
),

available_islands as (
    select * from islands
    where island_end_date > island_start_date
),

booked_month_range as (
    select
        cast(date_trunc('month', cast(min(island_start_date) as timestamp)) as date) as first_month_start,
        cast(date_trunc('month', cast(max(island_end_date) - 1 as timestamp)) as date) as last_month_start
    from available_islands
),

months (month_start, last_month_start) as (
    select
        first_month_start,
        last_month_start
    from booked_month_range
    where first_month_start is not null
    union all
    select
        cast(month_start + interval '1 month' as date),
        last_month_start
    from months
    where month_start < last_month_start
),

month_bounds as (
    select
        month_start,
        cast(month_start + interval '1 month' as date) as next_month_start
    from months
),

booked_nights_per_month as (
    select
        month_bounds.month_start,
        sum(
            least(available_islands.island_end_date, month_bounds.next_month_start)
            - greatest(available_islands.island_start_date, month_bounds.month_start)
        ) as booked_nights
    from month_bounds
    inner join available_islands
        on
            month_bounds.next_month_start > available_islands.island_start_date
            and month_bounds.month_start < available_islands.island_end_date
    group by month_bounds.month_start
),

listings_with_created_month as (
    select
        listing_created_on,
        cast(date_trunc('month', cast(listing_created_on as timestamp)) as date) as created_month_start
    from listings
),

listings_by_created_month as (
    select
        created_month_start,
        count(*) as listings,
        sum(cast(created_month_start + interval '1 month' as date) - listing_created_on) as nights_in_created_month
    from listings_with_created_month
    group by created_month_start
),

available_nights_per_month as (
    select
        month_bounds.month_start,
        sum(
            case
                when listings_by_created_month.created_month_start < month_bounds.month_start
                    then listings_by_created_month.listings * (month_bounds.next_month_start - month_bounds.month_start)
                else listings_by_created_month.nights_in_created_month
            end
        ) as available_nights
    from month_bounds
    inner join listings_by_created_month
        on month_bounds.month_start >= listings_by_created_month.created_month_start
    group by month_bounds.month_start
),

final as (
    select
        month_bounds.month_start,
        cast(coalesce(available_nights_per_month.available_nights, 0) as bigint) as available_nights,
        cast(coalesce(booked_nights_per_month.booked_nights, 0) as bigint) as booked_nights,
        cast(
            round(
                cast(coalesce(booked_nights_per_month.booked_nights, 0) as numeric(18, 6))
                / nullif(available_nights_per_month.available_nights, 0),
                4
            ) as numeric(10, 4)
        ) as occupancy_rate
    from month_bounds
    left join available_nights_per_month
        on month_bounds.month_start = available_nights_per_month.month_start
    left join booked_nights_per_month
        on month_bounds.month_start = booked_nights_per_month.month_start
)

select * from final;
