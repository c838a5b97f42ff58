-- presentation.vw_top_revenue_days: the ten days with the highest rental revenue (ties share a
-- rank and the next rank skips, so more than ten rows may show).
-- Grain: one row per rental_date. Key: rental_date.
-- The rank is computed on the revenue shown (rounded half-up to 2 decimals), so days whose shown
-- revenues are equal tie.
create or replace view presentation.vw_top_revenue_days as
with

rentals as (
    select * from curated.fact_rentals
),

revenue_per_day as (
    select
        rental_date,
        cast(round(sum(total_amount), 2) as numeric(14, 2)) as revenue,
        cast(count(*) as bigint) as transactions
    from rentals
    group by rental_date
),

ranked_days as (
    select
        rental_date,
        revenue,
        transactions,
        rank() over (order by revenue desc) as revenue_rank
    from revenue_per_day
),

final as (
    select
        rental_date,
        revenue,
        transactions,
        revenue_rank
    from ranked_days
    where revenue_rank <= 10
)

select * from final;
