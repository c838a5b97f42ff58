-- Schemas of the warehouse layers.
-- raw_data: stg_* tables (latest version of each source row + load metadata), rejects, load ledger.
-- curated: facts and dimensions. presentation: KPI views.
create schema if not exists raw_data;
create schema if not exists curated;
create schema if not exists presentation;
