"""One warehouse interface: PostgreSQL locally, Redshift in AWS. Runs the redshift/*.sql files."""

from rental_analytics.warehouse.base import Warehouse, WarehouseError, sql_dir

__all__ = ["Warehouse", "WarehouseError", "connect", "sql_dir"]


def connect(settings) -> Warehouse:
    """The warehouse of these settings. Locally that is PostgreSQL; Redshift arrives with
    the deployment work (issue 6) behind this same interface."""
    from rental_analytics.warehouse.postgres import PostgresWarehouse

    return PostgresWarehouse(settings.warehouse)
