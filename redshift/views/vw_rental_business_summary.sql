-- presentation.vw_rental_business_summary: headline figures of the vehicle-rental business.
-- Grain: exactly one row (an aggregate without group by), also when there are no rentals:
-- then transactions and the unique counts are 0, revenue 0.00 and the averages NULL. No key.
-- Money is rounded half-up to 2 decimals; avg_duration_hours is the exact total seconds /
-- (3600 x rentals), rounded half-up.
create or replace view presentation.vw_rental_business_summary as
with

rentals as (
    select * from curated.fact_rentals
),

final as (
    select
        cast(count(*) as bigint) as transactions,
        cast(coalesce(round(sum(total_amount), 2), 0) as numeric(14, 2)) as revenue,
        cast(count(distinct user_id) as bigint) as unique_users,
        cast(count(distinct vehicle_id) as bigint) as unique_vehicles,
        cast(round(avg(cast(total_amount as numeric(18, 6))), 2) as numeric(14, 2)) as avg_amount,
        cast(
            round(
                cast(sum(duration_seconds) as numeric(18, 0))
                / nullif(cast(3600 * count(*) as numeric(18, 0)), 0),
                2
            ) as numeric(12, 2)
        ) as avg_duration_hours
    from rentals
)

select * from final;
