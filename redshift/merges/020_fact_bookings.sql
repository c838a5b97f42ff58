-- Merge curated.fact_bookings from raw_data.stg_bookings.
-- Grain: one row per booking. Key: booking_id.
-- Only confirmed bookings (status compared trimmed, case-insensitive) with a valid stay
-- (checkout_date > checkin_date) qualify; a booking that stops qualifying is deleted.
-- nights is date minus date (whole days in both engines; DATEDIFF counts boundaries in Redshift).
-- listing_id may reference a listing not yet in dim_listings: views join at query time. Idempotent.
drop table if exists fact_bookings_source;
drop table if exists fact_bookings_changed;

create temp table fact_bookings_source as
with

bookings as (
    select * from raw_data.stg_bookings
),

confirmed_valid_stays as (
    select * from bookings
    where
        lower(trim(booking_status)) = 'confirmed'
        and checkin_date is not null
        and checkout_date is not null
        and checkout_date > checkin_date
),

final as (
    select
        booking_id,
        apartment_id as listing_id,
        user_id,
        booking_date,
        checkin_date,
        checkout_date,
        cast(datediff(day, checkin_date, checkout_date) as integer) as nights,
        total_price,
        upper(trim(currency)) as currency
    from confirmed_valid_stays
)

select * from final;

delete from curated.fact_bookings
where not exists (
    select 1 from fact_bookings_source as src
    where src.booking_id = curated.fact_bookings.booking_id
);

-- Only the rows not already curated as they are go into the MERGE: a run rewrites
-- what changed, not every row (on Redshift, no dead rows to vacuum). EXCEPT compares
-- NULLs as equal.
create temp table fact_bookings_changed as
select
    booking_id,
    listing_id,
    user_id,
    booking_date,
    checkin_date,
    checkout_date,
    nights,
    total_price,
    currency
from fact_bookings_source
except
select
    booking_id,
    listing_id,
    user_id,
    booking_date,
    checkin_date,
    checkout_date,
    nights,
    total_price,
    currency
from curated.fact_bookings;

merge into curated.fact_bookings
using fact_bookings_changed as src
    on curated.fact_bookings.booking_id = src.booking_id
when matched then
    update
        set
            listing_id = src.listing_id,
            user_id = src.user_id,
            booking_date = src.booking_date,
            checkin_date = src.checkin_date,
            checkout_date = src.checkout_date,
            nights = src.nights,
            total_price = src.total_price,
            currency = src.currency
when not matched then insert (
    booking_id,
    listing_id,
    user_id,
    booking_date,
    checkin_date,
    checkout_date,
    nights,
    total_price,
    currency
) values (
    src.booking_id,
    src.listing_id,
    src.user_id,
    src.booking_date,
    src.checkin_date,
    src.checkout_date,
    src.nights,
    src.total_price,
    src.currency
);

drop table fact_bookings_source;
drop table fact_bookings_changed;
