"""extract: one source domain incrementally -> raw Parquet batches (sources/extract.py).

Schema drift (sources/drift.py): a missing source column or an incompatible type fails the
job; added columns are noted in the metrics, or fail it when the settings' schema_drift is
``fail`` (locally RENTALS_SCHEMA_DRIFT). Either way nothing is committed on failure.
"""

from __future__ import annotations

from pyspark.sql import SparkSession

from rental_analytics.config import ConfigError, Settings
from rental_analytics.jobs.args import JobArgs
from rental_analytics.sources.extract import ExtractResult, JdbcReader, extract_domain
from rental_analytics.sources.landing import LandingReader
from rental_analytics.sources.tables import TABLES_BY_DOMAIN
from rental_analytics.storage import landing_for


def domain_reader(
    spark: SparkSession, settings: Settings, domain: str
) -> JdbcReader | LandingReader:
    """The domain's source, as its table specs say: CSV files landed in a landing prefix,
    or the source database over JDBC. A domain's tables all arrive the same way."""
    if any(spec.is_landed for spec in TABLES_BY_DOMAIN.get(domain, ())):
        return LandingReader(spark, landing_for(settings.landing_root))
    return JdbcReader(spark, settings)


def run(args: JobArgs, settings: Settings, spark: SparkSession) -> ExtractResult:
    """The extract job (glue_jobs/extract.py): ``--domain``'s tables into one raw batch."""
    if not args.domain:
        raise ConfigError("--domain is required: apartments or vehicle_rentals")
    reader = domain_reader(spark, settings, args.domain)
    return extract_domain(
        settings, args.domain, args.run_date, reader, full_refresh=args.full_refresh
    )
