-- raw_data.stg_bookings: latest version of each rental_db.bookings row.
-- Grain: one row per booking. Key: booking_id.
create table if not exists raw_data.stg_bookings (
    booking_id integer not null,
    user_id integer,
    apartment_id integer,
    booking_date date,
    checkin_date date,
    checkout_date date,
    total_price numeric(10, 2),
    currency varchar(32),
    booking_status varchar(128),
    load_batch_id varchar(64) not null,
    load_run_date date not null,
    load_row_hash char(32) not null,
    loaded_at timestamp not null,
    primary key (booking_id)
)
distkey (booking_id)
sortkey (booking_id);
