-- curated.dim_locations: one row per rental location (pickup and drop-off points).
-- Grain: location. Key: location_id. A few hundred rows: copied to every node (diststyle all).
create table if not exists curated.dim_locations (
    location_id integer not null,
    location_name varchar(1024),
    address varchar(1024),
    city varchar(1024),
    state varchar(256),
    zip_code varchar(256),
    latitude double precision,
    longitude double precision,
    primary key (location_id)
)
diststyle all
sortkey (location_id);
