"""The AWS side of the jobs: settings from Glue job arguments and Secrets Manager
(``settings``), S3 storage for bookmark state, the landing zone and the lake (``storage``),
and the wheel Glue installs (``packaging``). Nothing here is imported on the local path."""
