"""Rental marketplace analytics: Glue extract -> raw Parquet -> Redshift staging -> curated -> KPIs."""

__version__ = "0.1.0"
