"""The local stack: private MariaDB and PostgreSQL per home, data generator, CSV import."""
