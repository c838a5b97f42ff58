-- curated.dim_customers: one row per vehicle-rental customer (raw_data.stg_rental_users).
-- Grain: customer. Key: user_id. Tens of thousands of rows: copied to every node (diststyle all)
-- so joins to curated.fact_rentals (distributed by vehicle_id) never redistribute.
create table if not exists curated.dim_customers (
    user_id varchar(64) not null,
    first_name varchar(1024),
    last_name varchar(1024),
    email varchar(1024),
    phone_number varchar(256),
    driver_license_number varchar(256),
    driver_license_expiry date,
    creation_date date,
    is_active boolean,
    primary key (user_id)
)
diststyle all
sortkey (user_id);
