-- presentation.vw_vehicle_type_performance: valid rentals, revenue and durations per vehicle type.
-- Grain: one row per vehicle_type. Key: vehicle_type.
-- The type is the vehicle's current one in curated.dim_vehicles, joined at query time: a rental of
-- a vehicle not (yet) in the dimension, or without a type, counts under 'unknown' until the
-- vehicle's row arrives, and a vehicle's new type moves all its rentals. Money is rounded half-up
-- to 2 decimals; hours are computed from the exact duration_seconds, rounded half-up.
create or replace view presentation.vw_vehicle_type_performance as
with

rentals as (
    select * from curated.fact_rentals
),

vehicles as (
    select * from curated.dim_vehicles
),

rentals_with_vehicle_type as (
    select
        coalesce(vehicles.vehicle_type, 'unknown') as vehicle_type,
        rentals.total_amount,
        rentals.duration_seconds
    from rentals
    left join vehicles
        on rentals.vehicle_id = vehicles.vehicle_id
),

final as (
    select
        vehicle_type,
        cast(count(*) as bigint) as transactions,
        cast(round(sum(total_amount), 2) as numeric(14, 2)) as revenue,
        cast(round(avg(cast(total_amount as numeric(18, 6))), 2) as numeric(14, 2)) as avg_amount,
        cast(
            round(cast(sum(duration_seconds) as numeric(18, 0)) / 3600, 2) as numeric(12, 2)
        ) as total_duration_hours,
        cast(
            round(
                cast(sum(duration_seconds) as numeric(18, 0)) / cast(3600 * count(*) as numeric(18, 0)),
                2
            ) as numeric(12, 2)
        ) as avg_duration_hours
    from rentals_with_vehicle_type
    group by vehicle_type
)

select * from final;
