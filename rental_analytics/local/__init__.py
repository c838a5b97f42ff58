"""The local stack: private MariaDB and PostgreSQL per home, data generator, CSV import,
the workflow run against the AWS emulator (``orchestration``) and its one-run-per-home lock
(``run_lock``)."""
