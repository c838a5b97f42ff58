-- Merge curated.dim_vehicles from raw_data.stg_vehicles.
-- Grain: one row per vehicle. Key: vehicle_id.
-- stg already holds only the latest version of each vehicle (by last_update_timestamp), so a
-- newer version (a new vehicle_type, say) replaces the older one here and in every KPI.
-- vehicle_type is kept trimmed and lowercased; a blank type is NULL (shown as 'unknown' by the
-- views, like a missing one). Idempotent.
-- Scope: the keys of the stg rows of batches this merge has not merged yet, recorded in
-- raw_data.curated_batches with its changes; every key after a full refresh (the only load
-- that deletes stg rows) or when it has recorded none (migration 0003). Each step reads
-- either every row or the scope's keys, gated by conditions evaluated once: no OR.
drop table if exists dim_vehicles_pending;
drop table if exists dim_vehicles_whole;
drop table if exists dim_vehicles_scope;
drop table if exists dim_vehicles_source;
drop table if exists dim_vehicles_changed;
drop table if exists dim_vehicles_empty;

-- The batches loaded into this merge's stg tables that it has not merged yet
-- (raw_data.curated_batches, written below in the same transaction as the merge).
create temp table dim_vehicles_pending as
select
    batches.source_table,
    batches.batch_id,
    batches.is_full_refresh
from raw_data.load_batches as batches
where
    batches.source_table = 'vehicles'
    and not exists (
        select 1 from raw_data.curated_batches as merged
        where
            merged.target_table = 'dim_vehicles'
            and merged.source_table = batches.source_table
            and merged.batch_id = batches.batch_id
    );

-- One row when every key is compared: rows may have left stg (a pending full refresh), or
-- this merge has recorded no batch yet (a new or upgraded warehouse, or its rows in
-- raw_data.curated_batches deleted to have it compare every key).
create temp table dim_vehicles_whole as
select 1 as whole
from dim_vehicles_pending
where dim_vehicles_pending.is_full_refresh
union all
select 1 as whole
from (
    select count(*) as batches
    from raw_data.curated_batches
    where curated_batches.target_table = 'dim_vehicles'
) as recorded
where recorded.batches = 0;

-- Otherwise the keys compared: those of the pending batches' stg rows (a key may appear
-- twice: it is only ever matched).
create temp table dim_vehicles_scope as
select stg_vehicles.vehicle_id
from raw_data.stg_vehicles
where
    stg_vehicles.load_batch_id in (select dim_vehicles_pending.batch_id from dim_vehicles_pending)
    and not exists (select 1 from dim_vehicles_whole);

create temp table dim_vehicles_source as
with

vehicles as (
    select * from raw_data.stg_vehicles
    where exists (select 1 from dim_vehicles_whole)
    union all
    select * from raw_data.stg_vehicles
    where stg_vehicles.vehicle_id in (select dim_vehicles_scope.vehicle_id from dim_vehicles_scope)
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

-- Rows that left the source: any, when every key is compared; else among the scope's keys.
delete from curated.dim_vehicles
where
    exists (select 1 from dim_vehicles_whole)
    and not exists (
        select 1 from dim_vehicles_source as src
        where src.vehicle_id = curated.dim_vehicles.vehicle_id
    );

delete from curated.dim_vehicles
where
    curated.dim_vehicles.vehicle_id in (select dim_vehicles_scope.vehicle_id from dim_vehicles_scope)
    and not exists (
        select 1 from dim_vehicles_source as src
        where src.vehicle_id = curated.dim_vehicles.vehicle_id
    );

-- A curated table still empty (a new warehouse's first run) has nothing to compare with
-- or to match: its rows go in by one INSERT, and the comparison and MERGE below find none.
create temp table dim_vehicles_empty as
select 1 as is_empty
from (select 1 as single_row) as single
where not exists (select 1 from curated.dim_vehicles);

insert into curated.dim_vehicles (
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
)
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
where exists (select 1 from dim_vehicles_empty);

-- Only the rows not already curated as they are go into the MERGE: a run rewrites
-- what changed, not every row (on Redshift, no dead rows to vacuum). EXCEPT compares
-- NULLs as equal.
create temp table dim_vehicles_changed as
with

curated_rows as (
    select * from curated.dim_vehicles
    where exists (select 1 from dim_vehicles_whole)
    union all
    select * from curated.dim_vehicles
    where curated.dim_vehicles.vehicle_id in (select dim_vehicles_scope.vehicle_id from dim_vehicles_scope)
)

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
where not exists (select 1 from dim_vehicles_empty)
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
from curated_rows
where not exists (select 1 from dim_vehicles_empty);

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

insert into raw_data.curated_batches (target_table, source_table, batch_id)
select
    'dim_vehicles' as target_table,
    dim_vehicles_pending.source_table,
    dim_vehicles_pending.batch_id
from dim_vehicles_pending;

drop table dim_vehicles_source;
drop table dim_vehicles_changed;
drop table dim_vehicles_empty;
drop table dim_vehicles_scope;
drop table dim_vehicles_whole;
drop table dim_vehicles_pending;
