-- raw_data.load_batches: the load ledger, one row per raw batch loaded into a stg_* table.
-- Grain: (source_table, batch_id). A batch present here is fully merged: the row is written
-- in the same transaction as the merge, so a batch is loaded exactly once.
create table if not exists raw_data.load_batches (
    source_table varchar(128) not null,
    batch_id varchar(64) not null,
    run_date date not null,
    is_full_refresh boolean not null,
    rows_extracted bigint not null,
    rows_loaded bigint not null,
    rows_rejected bigint not null,
    rows_inserted bigint not null,
    rows_updated bigint not null,
    rows_deleted bigint not null,
    loaded_at timestamp not null,
    primary key (source_table, batch_id)
)
diststyle all;
