-- Merge curated.dim_vehicles from raw_data.stg_vehicles.
-- Grain: one row per vehicle. Key: vehicle_id.
-- stg already holds only the latest version of each vehicle (by last_update_timestamp), so a
-- newer version (a new vehicle_type, say) replaces the older one here and in every KPI.
-- vehicle_type is kept trimmed and lowercased; a blank type is NULL (shown as 'unknown' by the
-- views, like a missing one). Idempotent.
drop table if exists dim_vehicles_source;
drop table if exists dim_vehicles_changed;

create temp table dim_vehicles_source as
with

vehicles as (
    select * from raw_data.stg_vehicles
),

final as (
    select
        vehicle_id,
        nullif(lower(trim(vehicle_type)), '') as vehicle_type,
        brand,
        vehicle_year,
        active as is_active,
        vehicle_license_number,
        registration_name,
        license_type,
        expiration_date,
        permit_license_number,
        certification_date,
        base_telephone_number,
        base_address,
        last_update_timestamp as last_updated_at
    from vehicles
)

select * from final;

delete from curated.dim_vehicles
where not exists (
    select 1 from dim_vehicles_source as src
    where src.vehicle_id = curated.dim_vehicles.vehicle_id
);

-- Only the rows not already curated as they are go into the MERGE: a run rewrites
-- what changed, not every row (on Redshift, no dead rows to vacuum). EXCEPT compares
-- NULLs as equal.
create temp table dim_vehicles_changed as
select
    vehicle_id,
    vehicle_type,
    brand,
    vehicle_year,
    is_active,
    vehicle_license_number,
    registration_name,
    license_type,
    expiration_date,
    permit_license_number,
    certification_date,
    base_telephone_number,
    base_address,
    last_updated_at
from dim_vehicles_source
except
select
    vehicle_id,
    vehicle_type,
    brand,
    vehicle_year,
    is_active,
    vehicle_license_number,
    registration_name,
    license_type,
    expiration_date,
    permit_license_number,
    certification_date,
    base_telephone_number,
    base_address,
    last_updated_at
from curated.dim_vehicles;

merge into curated.dim_vehicles
using dim_vehicles_changed as src
    on curated.dim_vehicles.vehicle_id = src.vehicle_id
when matched then
    update
        set
            vehicle_type = src.vehicle_type,
            brand = src.brand,
            vehicle_year = src.vehicle_year,
            is_active = src.is_active,
            vehicle_license_number = src.vehicle_license_number,
            registration_name = src.registration_name,
            license_type = src.license_type,
            expiration_date = src.expiration_date,
            permit_license_number = src.permit_license_number,
            certification_date = src.certification_date,
            base_telephone_number = src.base_telephone_number,
            base_address = src.base_address,
            last_updated_at = src.last_updated_at
when not matched then insert (
    vehicle_id,
    vehicle_type,
    brand,
    vehicle_year,
    is_active,
    vehicle_license_number,
    registration_name,
    license_type,
    expiration_date,
    permit_license_number,
    certification_date,
    base_telephone_number,
    base_address,
    last_updated_at
) values (
    src.vehicle_id,
    src.vehicle_type,
    src.brand,
    src.vehicle_year,
    src.is_active,
    src.vehicle_license_number,
    src.registration_name,
    src.license_type,
    src.expiration_date,
    src.permit_license_number,
    src.certification_date,
    src.base_telephone_number,
    src.base_address,
    src.last_updated_at
);

drop table dim_vehicles_source;
drop table dim_vehicles_changed;
