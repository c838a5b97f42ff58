-- curated.fact_rentals: valid vehicle rentals (start and end known, end after start, amount >= 0).
-- Grain: rental. Key: rental_id. user_id, vehicle_id and the location ids are kept as given and may
-- reference no dimension row yet (late-arriving dimension): views join at query time and
-- attribute such rentals to 'unknown'. duration_seconds is exact; duration_hours is the same
-- duration rounded to 2 decimals for display (aggregate duration_seconds, never duration_hours).
create table if not exists curated.fact_rentals (
    rental_id varchar(64) not null,
    user_id varchar(64),
    vehicle_id varchar(64),
    pickup_location_id integer,
    dropoff_location_id integer,
    rental_start_time timestamp not null,
    rental_end_time timestamp not null,
    rental_date date not null,
    duration_seconds bigint not null,
    duration_hours numeric(12, 2) not null,
    total_amount numeric(14, 4) not null,
    primary key (rental_id)
)
distkey (vehicle_id)
sortkey (rental_date);
