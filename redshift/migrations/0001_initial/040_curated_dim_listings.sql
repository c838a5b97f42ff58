-- curated.dim_listings: one row per listing (rental_db.apartments.id) with its attributes.
-- Grain: listing. Key: listing_id. A listing without attributes is kept (attributes NULL).
create table if not exists curated.dim_listings (
    listing_id integer not null,
    title varchar(1024),
    source varchar(256),
    price numeric(10, 2),
    currency varchar(32),
    listing_created_on date,
    is_active boolean,
    last_modified_at timestamp,
    category varchar(256),
    body varchar(65535),
    amenities varchar(4096),
    bathrooms integer,
    bedrooms integer,
    fee numeric(10, 2),
    has_photo boolean,
    pets_allowed boolean,
    price_display varchar(256),
    price_type varchar(256),
    square_feet integer,
    address varchar(2048),
    cityname varchar(512),
    state varchar(512),
    latitude numeric(9, 6),
    longitude numeric(9, 6),
    primary key (listing_id)
)
distkey (listing_id)
sortkey (listing_id);
