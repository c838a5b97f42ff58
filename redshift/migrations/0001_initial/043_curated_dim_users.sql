-- curated.dim_users: marketplace users seen in views or confirmed bookings.
-- Grain: user. Key: user_id. confirmed_bookings counts rows of curated.fact_bookings.
create table if not exists curated.dim_users (
    user_id integer not null,
    views bigint not null,
    wishlisted_views bigint not null,
    first_view_at timestamp,
    last_view_at timestamp,
    confirmed_bookings bigint not null,
    primary key (user_id)
)
distkey (user_id)
sortkey (user_id);
