-- Who may do what in the warehouse (SPEC 8), applied by the owner after the migrations and
-- views on every apply (`rentals up`, `rentals deploy`). The roles exist already: creating
-- a role needs a superuser. Redshift syntax; the local PostgreSQL drops the ROLE keyword.
-- rentals_owner: owns every schema, table and view (it runs this file).
-- rentals_job: reads and writes rows of raw_data and curated, reads presentation and the
-- version table; owns nothing and can create nothing but its temp tables.
-- rentals_analyst: reads presentation only.
-- The linter's Redshift dialect does not parse ALTER DEFAULT PRIVILEGES ... TO ROLE, which the
-- Redshift reference gives (docs.aws.amazon.com/redshift/latest/dg/r_ALTER_DEFAULT_PRIVILEGES.html):
-- hence the noqa: PRS.
grant usage on schema warehouse_meta to role rentals_job;
grant select on warehouse_meta.schema_migrations to role rentals_job;

grant usage on schema raw_data to role rentals_job;
grant select, insert, update, delete on all tables in schema raw_data to role rentals_job;
alter default privileges in schema raw_data
grant select, insert, update, delete on tables to role rentals_job;  -- noqa: PRS

grant usage on schema curated to role rentals_job;
grant select, insert, update, delete on all tables in schema curated to role rentals_job;
alter default privileges in schema curated
grant select, insert, update, delete on tables to role rentals_job;  -- noqa: PRS

grant usage on schema presentation to role rentals_job;
grant select on all tables in schema presentation to role rentals_job;
grant usage on schema presentation to role rentals_analyst;
grant select on all tables in schema presentation to role rentals_analyst;
alter default privileges in schema presentation grant select on tables to role rentals_job;  -- noqa: PRS
alter default privileges in schema presentation grant select on tables to role rentals_analyst;  -- noqa: PRS

revoke create on schema raw_data from role rentals_job;
revoke create on schema curated from role rentals_job;
revoke create on schema presentation from role rentals_job;
revoke create on schema warehouse_meta from role rentals_job;
