-- curated.dim_customers keeps no direct identifier of a person beyond user_id (SPEC 8):
-- names, e-mail, phone and driver's licence number stay in raw_data.stg_rental_users,
-- which analysts cannot read. No KPI uses them.
alter table curated.dim_customers drop column first_name;
alter table curated.dim_customers drop column last_name;
alter table curated.dim_customers drop column email;
alter table curated.dim_customers drop column phone_number;
alter table curated.dim_customers drop column driver_license_number;
