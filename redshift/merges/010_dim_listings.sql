-- Merge curated.dim_listings from raw_data.stg_apartments + raw_data.stg_apartment_attributes.
-- Grain: one row per listing (apartment id). Key: listing_id.
-- The source is rebuilt from stg, so a newer version of a listing replaces the older one
-- and a listing without attributes is kept with NULL attribute columns. Idempotent.
-- Scope: the keys of the stg rows of batches this merge has not merged yet, recorded in
-- raw_data.curated_batches with its changes; every key after a full refresh (the only load
-- that deletes stg rows) or when it has recorded none (migration 0003). Each step reads
-- either every row or the scope's keys, gated by conditions evaluated once: no OR.
drop table if exists dim_listings_pending;
drop table if exists dim_listings_whole;
drop table if exists dim_listings_scope;
drop table if exists dim_listings_source;
drop table if exists dim_listings_changed;
drop table if exists dim_listings_empty;

-- The batches loaded into this merge's stg tables that it has not merged yet
-- (raw_data.curated_batches, written below in the same transaction as the merge).
create temp table dim_listings_pending as
select
    batches.source_table,
    batches.batch_id,
    batches.is_full_refresh
from raw_data.load_batches as batches
where
    batches.source_table in ('apartments', 'apartment_attributes')
    and not exists (
        select 1 from raw_data.curated_batches as merged
        where
            merged.target_table = 'dim_listings'
            and merged.source_table = batches.source_table
            and merged.batch_id = batches.batch_id
    );

-- One row when every key is compared: rows may have left stg (a pending full refresh), or
-- this merge has recorded no batch yet (a new or upgraded warehouse, or its rows in
-- raw_data.curated_batches deleted to have it compare every key).
create temp table dim_listings_whole as
select 1 as whole
from dim_listings_pending
where dim_listings_pending.is_full_refresh
union all
select 1 as whole
from (
    select count(*) as batches
    from raw_data.curated_batches
    where curated_batches.target_table = 'dim_listings'
) as recorded
where recorded.batches = 0;

-- Otherwise the keys compared: those of the pending batches' stg rows (a key may appear
-- twice: it is only ever matched).
create temp table dim_listings_scope as
select stg_apartments.id as listing_id
from raw_data.stg_apartments
where
    stg_apartments.load_batch_id in (
        select dim_listings_pending.batch_id from dim_listings_pending
        where dim_listings_pending.source_table = 'apartments'
    )
    and not exists (select 1 from dim_listings_whole)
union all
select stg_apartment_attributes.id as listing_id
from raw_data.stg_apartment_attributes
where
    stg_apartment_attributes.load_batch_id in (
        select dim_listings_pending.batch_id from dim_listings_pending
        where dim_listings_pending.source_table = 'apartment_attributes'
    )
    and not exists (select 1 from dim_listings_whole);

create temp table dim_listings_source as
with

apartments as (
    select * from raw_data.stg_apartments
    where exists (select 1 from dim_listings_whole)
    union all
    select * from raw_data.stg_apartments
    where stg_apartments.id in (select dim_listings_scope.listing_id from dim_listings_scope)
),

-- The attributes of the same keys (the scope holds the keys of pending attributes batches
-- too): reading every attributes row cost an incremental run at scale 4 some 2 s.
apartment_attributes as (
    select * from raw_data.stg_apartment_attributes
    where exists (select 1 from dim_listings_whole)
    union all
    select * from raw_data.stg_apartment_attributes
    where
        stg_apartment_attributes.id in (select dim_listings_scope.listing_id from dim_listings_scope)
),

final as (
    select
        apartments.id as listing_id,
        apartments.title,
        apartments.source,
        apartments.price,
        upper(trim(apartments.currency)) as currency,
        apartments.listing_created_on,
        apartments.is_active,
        apartments.last_modified_timestamp as last_modified_at,
        apartment_attributes.category,
        apartment_attributes.body,
        apartment_attributes.amenities,
        apartment_attributes.bathrooms,
        apartment_attributes.bedrooms,
        apartment_attributes.fee,
        apartment_attributes.has_photo,
        apartment_attributes.pets_allowed,
        apartment_attributes.price_display,
        apartment_attributes.price_type,
        apartment_attributes.square_feet,
        apartment_attributes.address,
        apartment_attributes.cityname,
        apartment_attributes.state,
        apartment_attributes.latitude,
        apartment_attributes.longitude
    from apartments
    left join apartment_attributes
        on apartments.id = apartment_attributes.id
)

select * from final;

-- Rows that left the source: any, when every key is compared; else among the scope's keys.
delete from curated.dim_listings
where
    exists (select 1 from dim_listings_whole)
    and not exists (
        select 1 from dim_listings_source as src
        where src.listing_id = curated.dim_listings.listing_id
    );

delete from curated.dim_listings
where
    curated.dim_listings.listing_id in (select dim_listings_scope.listing_id from dim_listings_scope)
    and not exists (
        select 1 from dim_listings_source as src
        where src.listing_id = curated.dim_listings.listing_id
    );

-- A curated table still empty (a new warehouse's first run) has nothing to compare with
-- or to match: its rows go in by one INSERT, and the comparison and MERGE below find none.
create temp table dim_listings_empty as
select 1 as is_empty
from (select 1 as single_row) as single
where not exists (select 1 from curated.dim_listings);

insert into curated.dim_listings (
    listing_id,
    title,
    source,
    price,
    currency,
    listing_created_on,
    is_active,
    last_modified_at,
    category,
    body,
    amenities,
    bathrooms,
    bedrooms,
    fee,
    has_photo,
    pets_allowed,
    price_display,
    price_type,
    square_feet,
    address,
    cityname,
    state,
    latitude,
    longitude
)
select
    listing_id,
    title,
    source,
    price,
    currency,
    listing_created_on,
    is_active,
    last_modified_at,
    category,
    body,
    amenities,
    bathrooms,
    bedrooms,
    fee,
    has_photo,
    pets_allowed,
    price_display,
    price_type,
    square_feet,
    address,
    cityname,
    state,
    latitude,
    longitude
from dim_listings_source
where exists (select 1 from dim_listings_empty);

-- Only the rows not already curated as they are go into the MERGE: a run rewrites
-- what changed, not every row (on Redshift, no dead rows to vacuum). EXCEPT compares
-- NULLs as equal.
create temp table dim_listings_changed as
with

curated_rows as (
    select * from curated.dim_listings
    where exists (select 1 from dim_listings_whole)
    union all
    select * from curated.dim_listings
    where curated.dim_listings.listing_id in (select dim_listings_scope.listing_id from dim_listings_scope)
)

select
    listing_id,
    title,
    source,
    price,
    currency,
    listing_created_on,
    is_active,
    last_modified_at,
    category,
    body,
    amenities,
    bathrooms,
    bedrooms,
    fee,
    has_photo,
    pets_allowed,
    price_display,
    price_type,
    square_feet,
    address,
    cityname,
    state,
    latitude,
    longitude
from dim_listings_source
where not exists (select 1 from dim_listings_empty)
except
select
    listing_id,
    title,
    source,
    price,
    currency,
    listing_created_on,
    is_active,
    last_modified_at,
    category,
    body,
    amenities,
    bathrooms,
    bedrooms,
    fee,
    has_photo,
    pets_allowed,
    price_display,
    price_type,
    square_feet,
    address,
    cityname,
    state,
    latitude,
    longitude
from curated_rows
where not exists (select 1 from dim_listings_empty);

merge into curated.dim_listings
using dim_listings_changed as src
    on curated.dim_listings.listing_id = src.listing_id
when matched then
    update
        set
            title = src.title,
            source = src.source,
            price = src.price,
            currency = src.currency,
            listing_created_on = src.listing_created_on,
            is_active = src.is_active,
            last_modified_at = src.last_modified_at,
            category = src.category,
            body = src.body,
            amenities = src.amenities,
            bathrooms = src.bathrooms,
            bedrooms = src.bedrooms,
            fee = src.fee,
            has_photo = src.has_photo,
            pets_allowed = src.pets_allowed,
            price_display = src.price_display,
            price_type = src.price_type,
            square_feet = src.square_feet,
            address = src.address,
            cityname = src.cityname,
            state = src.state,
            latitude = src.latitude,
            longitude = src.longitude
when not matched then insert (
    listing_id,
    title,
    source,
    price,
    currency,
    listing_created_on,
    is_active,
    last_modified_at,
    category,
    body,
    amenities,
    bathrooms,
    bedrooms,
    fee,
    has_photo,
    pets_allowed,
    price_display,
    price_type,
    square_feet,
    address,
    cityname,
    state,
    latitude,
    longitude
) values (
    src.listing_id,
    src.title,
    src.source,
    src.price,
    src.currency,
    src.listing_created_on,
    src.is_active,
    src.last_modified_at,
    src.category,
    src.body,
    src.amenities,
    src.bathrooms,
    src.bedrooms,
    src.fee,
    src.has_photo,
    src.pets_allowed,
    src.price_display,
    src.price_type,
    src.square_feet,
    src.address,
    src.cityname,
    src.state,
    src.latitude,
    src.longitude
);

insert into raw_data.curated_batches (target_table, source_table, batch_id)
select
    'dim_listings' as target_table,
    dim_listings_pending.source_table,
    dim_listings_pending.batch_id
from dim_listings_pending;

drop table dim_listings_source;
drop table dim_listings_changed;
drop table dim_listings_empty;
drop table dim_listings_scope;
drop table dim_listings_whole;
drop table dim_listings_pending;
