"""The AWS side of the jobs: settings from Glue job arguments and Secrets Manager
(``settings``), S3 storage for bookmark state, the landing zone and the lake (``storage``),
the wheel Glue installs (``packaging``), and the COPY role's association with the Redshift
namespace or cluster (``copy_role``: deploy makes it, load_raw explains its absence), and
``rentals deploy`` itself (``deploy``).
Nothing here is imported on the local path."""
