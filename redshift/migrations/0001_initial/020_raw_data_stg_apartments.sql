-- raw_data.stg_apartments: latest version of each rental_db.apartments row.
-- Grain: one row per apartment id. Key: id.
create table if not exists raw_data.stg_apartments (
    id integer not null,
    title varchar(1024),
    source varchar(256),
    price numeric(10, 2),
    currency varchar(32),
    listing_created_on date,
    is_active boolean,
    last_modified_timestamp timestamp,
    load_batch_id varchar(64) not null,
    load_run_date date not null,
    load_row_hash char(32) not null,
    loaded_at timestamp not null,
    primary key (id)
)
distkey (id)
sortkey (id);
