-- Merge curated.dim_listings from raw_data.stg_apartments + raw_data.stg_apartment_attributes.
-- Grain: one row per listing (apartment id). Key: listing_id.
-- The source is rebuilt whole from stg, so a newer version of a listing replaces the older one
-- and a listing without attributes is kept with NULL attribute columns. Idempotent.
drop table if exists dim_listings_source;
drop table if exists dim_listings_changed;

create temp table dim_listings_source as
with

apartments as (
    select * from raw_data.stg_apartments
),

apartment_attributes as (
    select * from raw_data.stg_apartment_attributes
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

delete from curated.dim_listings
where not exists (
    select 1 from dim_listings_source as src
    where src.listing_id = curated.dim_listings.listing_id
);

-- Only the rows not already curated as they are go into the MERGE: a run rewrites
-- what changed, not every row (on Redshift, no dead rows to vacuum). EXCEPT compares
-- NULLs as equal.
create temp table dim_listings_changed as
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
from curated.dim_listings;

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

drop table dim_listings_source;
drop table dim_listings_changed;
