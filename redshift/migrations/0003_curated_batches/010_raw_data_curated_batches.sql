-- raw_data.curated_batches: which loaded batches each curated merge has merged.
-- Grain: (target_table, source_table, batch_id). A merge compares only the keys of the
-- stg rows of batches in raw_data.load_batches that it has not merged yet, and writes their
-- rows here in the same transaction as its changes; a merge with no row here, or with a
-- pending full refresh (the only load that deletes stg rows), compares every row.
-- Deleting a target's rows here makes its next merge compare every row again.
create table if not exists raw_data.curated_batches (
    target_table varchar(128) not null,
    source_table varchar(128) not null,
    batch_id varchar(64) not null,
    primary key (target_table, source_table, batch_id)
)
diststyle all;
