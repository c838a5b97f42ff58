"""One warehouse interface: PostgreSQL locally, Redshift in AWS. Runs the redshift/*.sql files."""

from rental_analytics.warehouse.base import Warehouse, WarehouseError, sql_dir

__all__ = ["Warehouse", "WarehouseError", "connect", "sql_dir"]


def connect(settings) -> Warehouse:
    """The warehouse of these settings: Redshift through the Data API when
    ``settings.redshift`` is set (in AWS), the local PostgreSQL otherwise.

    Each engine's driver is imported only when chosen: Glue needs no psycopg.
    """
    if settings.redshift is not None:
        from rental_analytics.warehouse.redshift import RedshiftWarehouse

        return RedshiftWarehouse(settings.redshift)
    from rental_analytics.warehouse.postgres import PostgresWarehouse

    return PostgresWarehouse(settings.warehouse)
