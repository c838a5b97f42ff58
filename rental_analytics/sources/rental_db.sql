-- The Aurora MySQL source schema `rental_db` (apartments marketplace), as created in the
-- local MariaDB. In AWS this schema belongs to the application: the pipeline only reads it.
create table if not exists apartments (
    id int not null primary key,
    title varchar(255),
    source varchar(64),
    price decimal(10, 2),
    currency varchar(8),
    listing_created_on date,
    is_active boolean,
    last_modified_timestamp datetime,
    key ix_apartments_last_modified (last_modified_timestamp)
);

create table if not exists apartment_attributes (
    id int not null primary key,
    category varchar(64),
    body text,
    amenities varchar(1024),
    bathrooms int,
    bedrooms int,
    fee decimal(10, 2),
    has_photo boolean,
    pets_allowed boolean,
    price_display varchar(64),
    price_type varchar(64),
    square_feet int,
    address varchar(512),
    cityname varchar(128),
    state varchar(128),
    latitude decimal(9, 6),
    longitude decimal(9, 6)
);

create table if not exists bookings (
    booking_id int not null primary key,
    user_id int,
    apartment_id int,
    booking_date date,
    checkin_date date,
    checkout_date date,
    total_price decimal(10, 2),
    currency varchar(8),
    booking_status varchar(32),
    key ix_bookings_booking_date (booking_date)
);

create table if not exists user_viewing (
    user_id int not null,
    apartment_id int not null,
    viewed_at datetime not null,
    is_wishlisted boolean,
    call_to_action varchar(64),
    primary key (user_id, apartment_id, viewed_at),
    key ix_user_viewing_viewed_at (viewed_at)
);
