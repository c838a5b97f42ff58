-- Merge curated.fact_user_views from raw_data.stg_user_viewing.
-- Grain: one row per view. Key: (user_id, listing_id, viewed_at).
-- view_date is the calendar day of viewed_at. Views that left stg are deleted. Idempotent.
drop table if exists fact_user_views_source;
drop table if exists fact_user_views_changed;

create temp table fact_user_views_source as
with

user_viewing as (
    select * from raw_data.stg_user_viewing
),

final as (
    select
        user_id,
        apartment_id as listing_id,
        viewed_at,
        cast(viewed_at as date) as view_date,
        is_wishlisted,
        call_to_action
    from user_viewing
)

select * from final;

delete from curated.fact_user_views
where not exists (
    select 1 from fact_user_views_source as src
    where
        src.user_id = curated.fact_user_views.user_id
        and src.listing_id = curated.fact_user_views.listing_id
        and src.viewed_at = curated.fact_user_views.viewed_at
);

-- Only the rows not already curated as they are go into the MERGE: a run rewrites
-- what changed, not every row (on Redshift, no dead rows to vacuum). EXCEPT compares
-- NULLs as equal.
create temp table fact_user_views_changed as
select
    user_id,
    listing_id,
    viewed_at,
    view_date,
    is_wishlisted,
    call_to_action
from fact_user_views_source
except
select
    user_id,
    listing_id,
    viewed_at,
    view_date,
    is_wishlisted,
    call_to_action
from curated.fact_user_views;

merge into curated.fact_user_views
using fact_user_views_changed as src
    on
        curated.fact_user_views.user_id = src.user_id
        and curated.fact_user_views.listing_id = src.listing_id
        and curated.fact_user_views.viewed_at = src.viewed_at
when matched then
    update
        set
            view_date = src.view_date,
            is_wishlisted = src.is_wishlisted,
            call_to_action = src.call_to_action
when not matched then insert (
    user_id,
    listing_id,
    viewed_at,
    view_date,
    is_wishlisted,
    call_to_action
) values (
    src.user_id,
    src.listing_id,
    src.viewed_at,
    src.view_date,
    src.is_wishlisted,
    src.call_to_action
);

drop table fact_user_views_source;
drop table fact_user_views_changed;
