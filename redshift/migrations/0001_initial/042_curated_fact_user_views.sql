-- curated.fact_user_views: listing views by users.
-- Grain: one row per (user_id, listing_id, viewed_at). Key: the same.
create table if not exists curated.fact_user_views (
    user_id integer not null,
    listing_id integer not null,
    viewed_at timestamp not null,
    view_date date not null,
    is_wishlisted boolean,
    call_to_action varchar(256),
    primary key (user_id, listing_id, viewed_at)
)
distkey (listing_id)
sortkey (view_date);
