-- Merge curated.fact_bookings from raw_data.stg_bookings.
-- Grain: one row per booking. Key: booking_id.
-- Only confirmed bookings (status compared trimmed, case-insensitive) with a valid stay
-- (checkout_date > checkin_date) qualify; a booking that stops qualifying is deleted.
-- nights is date minus date (whole days in both engines; DATEDIFF counts boundaries in Redshift).
-- listing_id may reference a listing not yet in dim_listings: views join at query time. Idempotent.
-- Scope: the keys of the stg rows of batches this merge has not merged yet, recorded in
-- raw_data.curated_batches with its changes; every key after a full refresh (the only load
-- that deletes stg rows) or when it has recorded none (migration 0003). Each step reads
-- either every row or the scope's keys, gated by conditions evaluated once: no OR.
drop table if exists fact_bookings_pending;
drop table if exists fact_bookings_whole;
drop table if exists fact_bookings_scope;
drop table if exists fact_bookings_source;
drop table if exists fact_bookings_changed;
drop table if exists fact_bookings_empty;

-- The batches loaded into this merge's stg tables that it has not merged yet
-- (raw_data.curated_batches, written below in the same transaction as the merge).
create temp table fact_bookings_pending as
select
    batches.source_table,
    batches.batch_id,
    batches.is_full_refresh
from raw_data.load_batches as batches
where
    batches.source_table = 'bookings'
    and not exists (
        select 1 from raw_data.curated_batches as merged
        where
            merged.target_table = 'fact_bookings'
            and merged.source_table = batches.source_table
            and merged.batch_id = batches.batch_id
    );

-- One row when every key is compared: rows may have left stg (a pending full refresh), or
-- this merge has recorded no batch yet (a new or upgraded warehouse, or its rows in
-- raw_data.curated_batches deleted to have it compare every key).
create temp table fact_bookings_whole as
select 1 as whole
from fact_bookings_pending
where fact_bookings_pending.is_full_refresh
union all
select 1 as whole
from (
    select count(*) as batches
    from raw_data.curated_batches
    where curated_batches.target_table = 'fact_bookings'
) as recorded
where recorded.batches = 0;

-- Otherwise the keys compared: those of the pending batches' stg rows (a key may appear
-- twice: it is only ever matched).
create temp table fact_bookings_scope as
select stg_bookings.booking_id
from raw_data.stg_bookings
where
    stg_bookings.load_batch_id in (select fact_bookings_pending.batch_id from fact_bookings_pending)
    and not exists (select 1 from fact_bookings_whole);

create temp table fact_bookings_source as
with

bookings as (
    select * from raw_data.stg_bookings
    where exists (select 1 from fact_bookings_whole)
    union all
    select * from raw_data.stg_bookings
    where stg_bookings.booking_id in (select fact_bookings_scope.booking_id from fact_bookings_scope)
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

-- Rows that left the source: any, when every key is compared; else among the scope's keys.
delete from curated.fact_bookings
where
    exists (select 1 from fact_bookings_whole)
    and not exists (
        select 1 from fact_bookings_source as src
        where src.booking_id = curated.fact_bookings.booking_id
    );

delete from curated.fact_bookings
where
    curated.fact_bookings.booking_id in (select fact_bookings_scope.booking_id from fact_bookings_scope)
    and not exists (
        select 1 from fact_bookings_source as src
        where src.booking_id = curated.fact_bookings.booking_id
    );

-- A curated table still empty (a new warehouse's first run) has nothing to compare with
-- or to match: its rows go in by one INSERT, and the comparison and MERGE below find none.
create temp table fact_bookings_empty as
select 1 as is_empty
from (select 1 as single_row) as single
where not exists (select 1 from curated.fact_bookings);

insert into curated.fact_bookings (
    booking_id,
    listing_id,
    user_id,
    booking_date,
    checkin_date,
    checkout_date,
    nights,
    total_price,
    currency
)
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
where exists (select 1 from fact_bookings_empty);

-- Only the rows not already curated as they are go into the MERGE: a run rewrites
-- what changed, not every row (on Redshift, no dead rows to vacuum). EXCEPT compares
-- NULLs as equal.
create temp table fact_bookings_changed as
with

curated_rows as (
    select * from curated.fact_bookings
    where exists (select 1 from fact_bookings_whole)
    union all
    select * from curated.fact_bookings
    where curated.fact_bookings.booking_id in (select fact_bookings_scope.booking_id from fact_bookings_scope)
)

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
where not exists (select 1 from fact_bookings_empty)
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
from curated_rows
where not exists (select 1 from fact_bookings_empty);

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

insert into raw_data.curated_batches (target_table, source_table, batch_id)
select
    'fact_bookings' as target_table,
    fact_bookings_pending.source_table,
    fact_bookings_pending.batch_id
from fact_bookings_pending;

drop table fact_bookings_source;
drop table fact_bookings_changed;
drop table fact_bookings_empty;
drop table fact_bookings_scope;
drop table fact_bookings_whole;
drop table fact_bookings_pending;
