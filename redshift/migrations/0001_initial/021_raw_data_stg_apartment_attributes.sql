-- raw_data.stg_apartment_attributes: latest version of each rental_db.apartment_attributes row.
-- Grain: one row per apartment id. Key: id (= apartments.id).
create table if not exists raw_data.stg_apartment_attributes (
    id integer not null,
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
    load_batch_id varchar(64) not null,
    load_run_date date not null,
    load_row_hash char(32) not null,
    loaded_at timestamp not null,
    primary key (id)
)
distkey (id)
sortkey (id);
