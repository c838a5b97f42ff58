-- Merge curated.dim_users from curated.fact_user_views and curated.fact_bookings
-- (runs after the fact merges).
-- Grain: one row per user seen in a view or a confirmed booking. Key: user_id.
-- views / wishlisted_views / first_view_at / last_view_at describe the user's views
-- (0, 0, NULL, NULL without views); confirmed_bookings counts fact_bookings rows. Idempotent.
-- `views` is the DDL's column name, hence the RF04 (keyword as identifier) exemptions.
drop table if exists dim_users_source;
drop table if exists dim_users_changed;

create temp table dim_users_source as
with

user_views as (
    select * from curated.fact_user_views
),

bookings as (
    select * from curated.fact_bookings
    where user_id is not null
),

views_per_user as (
    select
        user_id,
        cast(count(*) as bigint) as views,  -- noqa: RF04
        cast(sum(case when is_wishlisted then 1 else 0 end) as bigint) as wishlisted_views,
        min(viewed_at) as first_view_at,
        max(viewed_at) as last_view_at
    from user_views
    group by user_id
),

bookings_per_user as (
    select
        user_id,
        cast(count(*) as bigint) as confirmed_bookings
    from bookings
    group by user_id
),

final as (
    select
        coalesce(views_per_user.user_id, bookings_per_user.user_id) as user_id,
        coalesce(views_per_user.views, 0) as views,  -- noqa: RF04
        coalesce(views_per_user.wishlisted_views, 0) as wishlisted_views,
        views_per_user.first_view_at,
        views_per_user.last_view_at,
        coalesce(bookings_per_user.confirmed_bookings, 0) as confirmed_bookings
    from views_per_user
    full outer join bookings_per_user
        on views_per_user.user_id = bookings_per_user.user_id
)

select * from final;

delete from curated.dim_users
where not exists (
    select 1 from dim_users_source as src
    where src.user_id = curated.dim_users.user_id
);

-- Only the rows not already curated as they are go into the MERGE: a run rewrites
-- what changed, not every row (on Redshift, no dead rows to vacuum). EXCEPT compares
-- NULLs as equal.
create temp table dim_users_changed as
select
    user_id,
    views,
    wishlisted_views,
    first_view_at,
    last_view_at,
    confirmed_bookings
from dim_users_source
except
select
    user_id,
    views,
    wishlisted_views,
    first_view_at,
    last_view_at,
    confirmed_bookings
from curated.dim_users;

merge into curated.dim_users
using dim_users_changed as src
    on curated.dim_users.user_id = src.user_id
when matched then
    update
        set
            views = src.views,
            wishlisted_views = src.wishlisted_views,
            first_view_at = src.first_view_at,
            last_view_at = src.last_view_at,
            confirmed_bookings = src.confirmed_bookings
when not matched then insert (
    user_id,
    views,
    wishlisted_views,
    first_view_at,
    last_view_at,
    confirmed_bookings
) values (
    src.user_id,
    src.views,
    src.wishlisted_views,
    src.first_view_at,
    src.last_view_at,
    src.confirmed_bookings
);

drop table dim_users_source;
drop table dim_users_changed;
