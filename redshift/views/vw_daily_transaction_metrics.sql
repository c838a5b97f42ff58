-- presentation.vw_daily_transaction_metrics: valid rentals and revenue per day.
-- Grain: one row per rental_date (calendar day of rental_start_time). Key: rental_date.
-- Money is rounded half-up to 2 decimals; unique_users counts distinct non-NULL user ids.
create or replace view presentation.vw_daily_transaction_metrics as
with

rentals as (
    select * from curated.fact_rentals
),

final as (
    select
        rental_date,
        cast(count(*) as bigint) as transactions,
        cast(round(sum(total_amount), 2) as numeric(14, 2)) as revenue,
        cast(round(avg(cast(total_amount as numeric(18, 6))), 2) as numeric(14, 2)) as avg_amount,
        cast(round(max(total_amount), 2) as numeric(14, 2)) as max_amount,
        cast(round(min(total_amount), 2) as numeric(14, 2)) as min_amount,
        cast(count(distinct user_id) as bigint) as unique_users
    from rentals
    group by rental_date
)

select * from final;
