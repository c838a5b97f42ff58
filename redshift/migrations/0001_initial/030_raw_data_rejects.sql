-- raw_data.rejects: source rows that failed a row-level rule, with the reason.
-- Grain: one row per (source row version, failed rule). Key: (source_table, row_hash, rule).
-- A row rejected again by a later batch (re-extraction) is not recorded twice.
create table if not exists raw_data.rejects (
    source_table varchar(128) not null,
    record_key varchar(1024),
    rule varchar(1024) not null,
    reason varchar(4096) not null,
    batch_id varchar(64) not null,
    raw_row varchar(65535),
    row_hash char(32) not null,
    rejected_at timestamp not null
)
diststyle even
sortkey (source_table, batch_id);
