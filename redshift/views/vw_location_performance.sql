-- presentation.vw_location_performance: valid rentals, revenue and durations per pickup location.
-- Grain: one row per pickup location (curated.fact_rentals.pickup_location_id, NULL included).
-- Key: location_id.
-- location_name, city and state come from curated.dim_locations at query time: a location not
-- (yet) in the dimension shows 'unknown' until its row arrives. Money is rounded half-up to
-- 2 decimals; avg_duration_hours is the exact total seconds / (3600 x rentals), rounded half-up.
-- `state` is the dimension's column name, hence the RF04 (keyword as identifier) exemption.
create or replace view presentation.vw_location_performance as
with

rentals as (
    select * from curated.fact_rentals
),

locations as (
    select * from curated.dim_locations
),

metrics_per_pickup_location as (
    select
        pickup_location_id as location_id,
        cast(count(*) as bigint) as transactions,
        cast(round(sum(total_amount), 2) as numeric(14, 2)) as revenue,
        cast(round(avg(cast(total_amount as numeric(18, 6))), 2) as numeric(14, 2)) as avg_amount,
        cast(round(max(total_amount), 2) as numeric(14, 2)) as max_amount,
        cast(round(min(total_amount), 2) as numeric(14, 2)) as min_amount,
        cast(count(distinct vehicle_id) as bigint) as unique_vehicles,
        cast(
            round(
                cast(sum(duration_seconds) as numeric(18, 0)) / cast(3600 * count(*) as numeric(18, 0)),
                2
            ) as numeric(12, 2)
        ) as avg_duration_hours
    from rentals
    group by pickup_location_id
),

final as (
    select
        metrics_per_pickup_location.location_id,
        coalesce(locations.location_name, 'unknown') as location_name,
        coalesce(locations.city, 'unknown') as city,
        coalesce(locations.state, 'unknown') as state,  -- noqa: RF04
        metrics_per_pickup_location.transactions,
        metrics_per_pickup_location.revenue,
        metrics_per_pickup_location.avg_amount,
        metrics_per_pickup_location.max_amount,
        metrics_per_pickup_location.min_amount,
        metrics_per_pickup_location.unique_vehicles,
        metrics_per_pickup_location.avg_duration_hours
    from metrics_per_pickup_location
    left join locations
        on metrics_per_pickup_location.location_id = locations.location_id
)

select * from final;
