-- raw_data.stg_rental_transactions: latest version of each landed rental_transactions.csv row.
-- Grain: one row per rental. Key: rental_id.
-- Every version is kept as given; validity (end after start, amount >= 0) is decided in
-- curated.fact_rentals.
create table if not exists raw_data.stg_rental_transactions (
    rental_id varchar(64) not null,
    user_id varchar(64),
    vehicle_id varchar(64),
    rental_start_time timestamp,
    rental_end_time timestamp,
    pickup_location integer,
    dropoff_location integer,
    total_amount numeric(14, 4),
    load_batch_id varchar(64) not null,
    load_run_date date not null,
    load_row_hash char(32) not null,
    loaded_at timestamp not null,
    primary key (rental_id)
)
distkey (rental_id)
sortkey (rental_id);
