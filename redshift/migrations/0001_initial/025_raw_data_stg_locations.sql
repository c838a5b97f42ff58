-- raw_data.stg_locations: latest version of each landed locations.csv (or location.csv) row.
-- Grain: one row per rental location. Key: location_id.
-- A few hundred rows: copied to every node (diststyle all) so joins never redistribute it.
create table if not exists raw_data.stg_locations (
    location_id integer not null,
    location_name varchar(1024),
    address varchar(1024),
    city varchar(1024),
    state varchar(256),
    zip_code varchar(256),
    latitude double precision,
    longitude double precision,
    load_batch_id varchar(64) not null,
    load_run_date date not null,
    load_row_hash char(32) not null,
    loaded_at timestamp not null,
    primary key (location_id)
)
diststyle all
sortkey (location_id);
