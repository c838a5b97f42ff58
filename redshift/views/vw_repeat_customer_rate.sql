-- presentation.vw_repeat_customer_rate: share of each month's booking customers who booked again
-- within 30 days.
-- Grain: one row per month_start (month of booking_date). Key: month_start.
-- active_customers: users with a confirmed booking dated in the month. A booking is a repeat when
-- the same user has another confirmed booking (different booking_id) dated 0..30 days before it,
-- the same day included. repeat_customers: users with a repeat booking dated in the month.
-- repeat_customer_rate = repeat / active, a fraction rounded to 4 decimals.
create or replace view presentation.vw_repeat_customer_rate as
with

bookings as (
    select
        booking_id,
        user_id,
        booking_date,
        cast(date_trunc('month', cast(booking_date as timestamp)) as date) as month_start
    from curated.fact_bookings
    where
        user_id is not null
        and booking_date is not null
),

repeat_bookings as (
    select distinct
        bookings.booking_id,
        bookings.user_id,
        bookings.month_start
    from bookings
    inner join bookings as earlier_bookings
        on
            bookings.user_id = earlier_bookings.user_id
            and bookings.booking_id != earlier_bookings.booking_id
            and earlier_bookings.booking_date between dateadd(day, -30, bookings.booking_date) and bookings.booking_date
),

active_customers_per_month as (
    select
        month_start,
        cast(count(distinct user_id) as bigint) as active_customers
    from bookings
    group by month_start
),

repeat_customers_per_month as (
    select
        month_start,
        cast(count(distinct user_id) as bigint) as repeat_customers
    from repeat_bookings
    group by month_start
),

final as (
    select
        active_customers_per_month.month_start,
        active_customers_per_month.active_customers,
        coalesce(repeat_customers_per_month.repeat_customers, 0) as repeat_customers,
        cast(
            round(
                cast(coalesce(repeat_customers_per_month.repeat_customers, 0) as numeric(18, 6))
                / nullif(active_customers_per_month.active_customers, 0),
                4
            ) as numeric(10, 4)
        ) as repeat_customer_rate
    from active_customers_per_month
    left join repeat_customers_per_month
        on active_customers_per_month.month_start = repeat_customers_per_month.month_start
)

select * from final;
