-- presentation.vw_bookings_per_user_weekly: confirmed bookings per user and booking week.
-- Grain: one row per (week_start, user_id). Key: (week_start, user_id).
-- Weeks start Monday. Bookings without a user or a booking_date belong to no row.
create or replace view presentation.vw_bookings_per_user_weekly as
with

bookings as (
    select * from curated.fact_bookings
    where
        user_id is not null
        and booking_date is not null
),

bookings_with_week as (
    select
        cast(date_trunc('week', cast(booking_date as timestamp)) as date) as week_start,
        user_id
    from bookings
),

final as (
    select
        week_start,
        user_id,
        cast(count(*) as bigint) as bookings
    from bookings_with_week
    group by week_start, user_id
)

select * from final;
