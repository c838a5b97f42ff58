-- curated.fact_bookings: confirmed bookings with a valid stay (checkout_date > checkin_date).
-- Grain: booking. Key: booking_id. listing_id may reference a listing not yet in
-- dim_listings (late-arriving dimension); views join at query time.
create table if not exists curated.fact_bookings (
    booking_id integer not null,
    listing_id integer,
    user_id integer,
    booking_date date,
    checkin_date date not null,
    checkout_date date not null,
    nights integer not null,
    total_price numeric(10, 2),
    currency varchar(32),
    primary key (booking_id)
)
distkey (listing_id)
sortkey (booking_date);
