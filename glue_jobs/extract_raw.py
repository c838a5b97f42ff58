"""Glue job: extract one source domain incrementally into raw Parquet.

Arguments: --JOB_NAME, --domain apartments|vehicle_rentals, optional --run_date YYYY-MM-DD
(default: today in UTC), --full_refresh t1,t2|all, --metrics_path.

Schema drift (sources/drift.py): a missing source column or an incompatible type fails the
job; added columns are noted in the metrics, or fail it when the settings' schema_drift is
``fail`` (locally RENTALS_SCHEMA_DRIFT). Either way nothing is committed on failure.
"""

from __future__ import annotations

import sys


def extract(args, settings, spark):
    from rental_analytics.config import ConfigError
    from rental_analytics.sources.extract import JdbcReader, extract_domain
    from rental_analytics.sources.landing import LandingReader
    from rental_analytics.storage import landing_for

    if not args.domain:
        raise ConfigError("--domain is required: apartments or vehicle_rentals")
    if args.domain == "vehicle_rentals":
        reader = LandingReader(spark, landing_for(settings.landing_root))
    else:
        reader = JdbcReader(spark, settings)
    return extract_domain(
        spark, settings, args.domain, args.run_date, reader, full_refresh=args.full_refresh
    )


def main(argv: list[str] | None = None) -> int:
    from rental_analytics.jobs.runtime import run_job

    return run_job(argv if argv is not None else sys.argv, extract)


if __name__ == "__main__":
    sys.exit(main())
