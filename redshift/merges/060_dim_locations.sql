-- Merge curated.dim_locations from raw_data.stg_locations.
-- Grain: one row per rental location. Key: location_id.
-- The source is rebuilt whole from stg: a newer version of a location replaces the older one
-- and a location that left stg is deleted. Idempotent.
drop table if exists dim_locations_source;
drop table if exists dim_locations_changed;

create temp table dim_locations_source as
with

locations as (
    select * from raw_data.stg_locations
),

final as (
    select
        location_id,
        location_name,
        address,
        city,
        state,
        zip_code,
        latitude,
        longitude
    from locations
)

select * from final;

delete from curated.dim_locations
where not exists (
    select 1 from dim_locations_source as src
    where src.location_id = curated.dim_locations.location_id
);

-- Only the rows not already curated as they are go into the MERGE: a run rewrites
-- what changed, not every row (on Redshift, no dead rows to vacuum). EXCEPT compares
-- NULLs as equal.
create temp table dim_locations_changed as
select
    location_id,
    location_name,
    address,
    city,
    state,
    zip_code,
    latitude,
    longitude
from dim_locations_source
except
select
    location_id,
    location_name,
    address,
    city,
    state,
    zip_code,
    latitude,
    longitude
from curated.dim_locations;

merge into curated.dim_locations
using dim_locations_changed as src
    on curated.dim_locations.location_id = src.location_id
when matched then
    update
        set
            location_name = src.location_name,
            address = src.address,
            city = src.city,
            state = src.state,
            zip_code = src.zip_code,
            latitude = src.latitude,
            longitude = src.longitude
when not matched then insert (
    location_id,
    location_name,
    address,
    city,
    state,
    zip_code,
    latitude,
    longitude
) values (
    src.location_id,
    src.location_name,
    src.address,
    src.city,
    src.state,
    src.zip_code,
    src.latitude,
    src.longitude
);

drop table dim_locations_source;
drop table dim_locations_changed;
