-- raw_data.stg_user_viewing: latest version of each rental_db.user_viewing row.
-- Grain: one row per view. Key: (user_id, apartment_id, viewed_at).
create table if not exists raw_data.stg_user_viewing (
    user_id integer not null,
    apartment_id integer not null,
    viewed_at timestamp not null,
    is_wishlisted boolean,
    call_to_action varchar(256),
    load_batch_id varchar(64) not null,
    load_run_date date not null,
    load_row_hash char(32) not null,
    loaded_at timestamp not null,
    primary key (user_id, apartment_id, viewed_at)
)
distkey (user_id)
sortkey (viewed_at);
