-- raw_data.stg_rental_users: latest version of each landed users.csv row (vehicle-rental customers).
-- Grain: one row per customer. Key: user_id.
create table if not exists raw_data.stg_rental_users (
    user_id varchar(64) not null,
    first_name varchar(1024),
    last_name varchar(1024),
    email varchar(1024),
    phone_number varchar(256),
    driver_license_number varchar(256),
    driver_license_expiry date,
    creation_date date,
    is_active boolean,
    load_batch_id varchar(64) not null,
    load_run_date date not null,
    load_row_hash char(32) not null,
    loaded_at timestamp not null,
    primary key (user_id)
)
distkey (user_id)
sortkey (user_id);
