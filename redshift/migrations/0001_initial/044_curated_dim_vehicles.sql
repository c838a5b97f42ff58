-- curated.dim_vehicles: one row per rental vehicle, its latest version from raw_data.stg_vehicles.
-- Grain: vehicle. Key: vehicle_id. vehicle_type is trimmed and lowercased (basic, premium, high_end).
-- Distributed like curated.fact_rentals (vehicle_id) so the views' join stays on each node.
create table if not exists curated.dim_vehicles (
    vehicle_id varchar(64) not null,
    vehicle_type varchar(64),
    brand varchar(256),
    vehicle_year integer,
    is_active boolean,
    vehicle_license_number varchar(256),
    registration_name varchar(1024),
    license_type varchar(256),
    expiration_date date,
    permit_license_number varchar(256),
    certification_date date,
    base_telephone_number varchar(256),
    base_address varchar(1024),
    last_updated_at timestamp,
    primary key (vehicle_id)
)
distkey (vehicle_id)
sortkey (vehicle_id);
