-- presentation.vw_avg_booking_duration: confirmed bookings and their average stay length,
-- by month of check-in.
-- Grain: one row per month_start (month of checkin_date). Key: month_start.
-- avg_nights is rounded half-up to 2 decimals (computed on numeric: AVG of an integer
-- truncates in Redshift).
create or replace view presentation.vw_avg_booking_duration as
with

bookings as (
    select * from curated.fact_bookings
),

bookings_with_month as (
    select
        cast(date_trunc('month', cast(checkin_date as timestamp)) as date) as month_start,
        nights
    from bookings
),

final as (
    select
        month_start,
        cast(count(*) as bigint) as bookings,
        cast(round(avg(cast(nights as numeric(18, 6))), 2) as numeric(14, 2)) as avg_nights
    from bookings_with_month
    group by month_start
)

select * from final;
