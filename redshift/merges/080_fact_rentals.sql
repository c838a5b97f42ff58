-- Merge curated.fact_rentals from raw_data.stg_rental_transactions.
-- Grain: one row per rental. Key: rental_id.
-- Only valid rentals qualify: start and end known, end after start, total_amount known and >= 0;
-- a rental that stops qualifying (its row replaced by an invalid version) is deleted.
-- duration_seconds is end minus start in seconds: DATEDIFF(second, ...) counts second boundaries,
-- exact for these whole-second timestamps (AWS docs: r_DATEDIFF_function); duration_hours is that
-- rounded half-up to 2 decimals, for display only.
-- rental_date is the calendar day of rental_start_time.
-- user_id, vehicle_id and the location ids are kept as given (NULL stays NULL), even when no
-- dimension row exists yet (late-arriving dimension): views join at query time. Idempotent.
drop table if exists fact_rentals_source;
drop table if exists fact_rentals_changed;

create temp table fact_rentals_source as
with

rental_transactions as (
    select * from raw_data.stg_rental_transactions
),

valid_rentals as (
    select * from rental_transactions
    where
        rental_start_time is not null
        and rental_end_time is not null
        and rental_end_time > rental_start_time
        and total_amount is not null
        and total_amount >= 0
),

rentals_with_duration as (
    select
        rental_id,
        user_id,
        vehicle_id,
        pickup_location,
        dropoff_location,
        rental_start_time,
        rental_end_time,
        total_amount,
        cast(datediff(second, rental_start_time, rental_end_time) as bigint) as duration_seconds
    from valid_rentals
),

final as (
    select
        rental_id,
        user_id,
        vehicle_id,
        pickup_location as pickup_location_id,
        dropoff_location as dropoff_location_id,
        rental_start_time,
        rental_end_time,
        cast(rental_start_time as date) as rental_date,
        duration_seconds,
        cast(round(cast(duration_seconds as numeric(18, 6)) / 3600, 2) as numeric(12, 2)) as duration_hours,
        total_amount
    from rentals_with_duration
)

select * from final;

delete from curated.fact_rentals
where not exists (
    select 1 from fact_rentals_source as src
    where src.rental_id = curated.fact_rentals.rental_id
);

-- Only the rows not already curated as they are go into the MERGE: a run rewrites
-- what changed, not every row (on Redshift, no dead rows to vacuum). EXCEPT compares
-- NULLs as equal.
create temp table fact_rentals_changed as
select
    rental_id,
    user_id,
    vehicle_id,
    pickup_location_id,
    dropoff_location_id,
    rental_start_time,
    rental_end_time,
    rental_date,
    duration_seconds,
    duration_hours,
    total_amount
from fact_rentals_source
except
select
    rental_id,
    user_id,
    vehicle_id,
    pickup_location_id,
    dropoff_location_id,
    rental_start_time,
    rental_end_time,
    rental_date,
    duration_seconds,
    duration_hours,
    total_amount
from curated.fact_rentals;

merge into curated.fact_rentals
using fact_rentals_changed as src
    on curated.fact_rentals.rental_id = src.rental_id
when matched then
    update
        set
            user_id = src.user_id,
            vehicle_id = src.vehicle_id,
            pickup_location_id = src.pickup_location_id,
            dropoff_location_id = src.dropoff_location_id,
            rental_start_time = src.rental_start_time,
            rental_end_time = src.rental_end_time,
            rental_date = src.rental_date,
            duration_seconds = src.duration_seconds,
            duration_hours = src.duration_hours,
            total_amount = src.total_amount
when not matched then insert (
    rental_id,
    user_id,
    vehicle_id,
    pickup_location_id,
    dropoff_location_id,
    rental_start_time,
    rental_end_time,
    rental_date,
    duration_seconds,
    duration_hours,
    total_amount
) values (
    src.rental_id,
    src.user_id,
    src.vehicle_id,
    src.pickup_location_id,
    src.dropoff_location_id,
    src.rental_start_time,
    src.rental_end_time,
    src.rental_date,
    src.duration_seconds,
    src.duration_hours,
    src.total_amount
);

drop table fact_rentals_source;
drop table fact_rentals_changed;
