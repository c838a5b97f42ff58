-- Merge curated.dim_customers from raw_data.stg_rental_users.
-- Grain: one row per vehicle-rental customer. Key: user_id.
-- The source is rebuilt whole from stg: a newer version of a customer replaces the older one
-- and a customer that left stg is deleted. Idempotent.
drop table if exists dim_customers_source;
drop table if exists dim_customers_changed;

create temp table dim_customers_source as
with

rental_users as (
    select * from raw_data.stg_rental_users
),

final as (
    select
        user_id,
        driver_license_expiry,
        creation_date,
        is_active
    from rental_users
)

select * from final;

delete from curated.dim_customers
where not exists (
    select 1 from dim_customers_source as src
    where src.user_id = curated.dim_customers.user_id
);

-- Only the rows not already curated as they are go into the MERGE: a run rewrites
-- what changed, not every row (on Redshift, no dead rows to vacuum). EXCEPT compares
-- NULLs as equal.
create temp table dim_customers_changed as
select
    user_id,
    driver_license_expiry,
    creation_date,
    is_active
from dim_customers_source
except
select
    user_id,
    driver_license_expiry,
    creation_date,
    is_active
from curated.dim_customers;

merge into curated.dim_customers
using dim_customers_changed as src
    on curated.dim_customers.user_id = src.user_id
when matched then
    update
        set
            driver_license_expiry = src.driver_license_expiry,
            creation_date = src.creation_date,
            is_active = src.is_active
when not matched then insert (
    user_id,
    driver_license_expiry,
    creation_date,
    is_active
) values (
    src.user_id,
    src.driver_license_expiry,
    src.creation_date,
    src.is_active
);

drop table dim_customers_source;
drop table dim_customers_changed;
