-- raw_data.stg_vehicles: latest version of each landed vehicles.csv row (by last_update_timestamp).
-- Grain: one row per vehicle. Key: vehicle_id.
create table if not exists raw_data.stg_vehicles (
    active boolean,
    vehicle_license_number varchar(256),
    registration_name varchar(1024),
    license_type varchar(256),
    expiration_date date,
    permit_license_number varchar(256),
    certification_date date,
    vehicle_year integer,
    base_telephone_number varchar(256),
    base_address varchar(1024),
    vehicle_id varchar(64) not null,
    last_update_timestamp timestamp,
    brand varchar(256),
    vehicle_type varchar(64),
    load_batch_id varchar(64) not null,
    load_run_date date not null,
    load_row_hash char(32) not null,
    loaded_at timestamp not null,
    primary key (vehicle_id)
)
distkey (vehicle_id)
sortkey (vehicle_id);
