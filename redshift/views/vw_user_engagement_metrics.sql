-- presentation.vw_user_engagement_metrics: valid rentals, spend and durations per customer.
-- Grain: one row per user_id; rentals without a user count under 'unknown'. Key: user_id.
-- Money is rounded half-up to 2 decimals; hours are computed from the exact duration_seconds,
-- rounded half-up.
create or replace view presentation.vw_user_engagement_metrics as
with

rentals as (
    select * from curated.fact_rentals
),

rentals_with_user as (
    select
        coalesce(user_id, 'unknown') as user_id,
        total_amount,
        duration_seconds
    from rentals
),

final as (
    select
        user_id,
        cast(count(*) as bigint) as transactions,
        cast(round(sum(total_amount), 2) as numeric(14, 2)) as total_spent,
        cast(round(avg(cast(total_amount as numeric(18, 6))), 2) as numeric(14, 2)) as avg_spent,
        cast(
            round(cast(sum(duration_seconds) as numeric(18, 0)) / 3600, 2) as numeric(12, 2)
        ) as total_duration_hours,
        cast(
            round(
                cast(sum(duration_seconds) as numeric(18, 0)) / cast(3600 * count(*) as numeric(18, 0)),
                2
            ) as numeric(12, 2)
        ) as avg_duration_hours,
        cast(round(max(total_amount), 2) as numeric(14, 2)) as max_amount,
        cast(round(min(total_amount), 2) as numeric(14, 2)) as min_amount
    from rentals_with_user
    group by user_id
)

select * from final;
