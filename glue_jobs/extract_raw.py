"""Glue job: extract one source domain incrementally into raw Parquet.

Arguments: --JOB_NAME, --run_date YYYY-MM-DD, --domain apartments|vehicle_rentals,
optional --full_refresh t1,t2|all, --metrics_path.
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    from rental_analytics.jobs.args import resolve_job_args
    from rental_analytics.jobs.runtime import (
        configure_logging,
        job_settings,
        job_spark,
        write_metrics,
    )
    from rental_analytics.sources.extract import JdbcReader, extract_domain

    configure_logging()
    args = resolve_job_args(argv if argv is not None else sys.argv)
    settings = job_settings()
    spark = job_spark(args.job_name, settings)
    try:
        result = extract_domain(
            spark,
            settings,
            args.domain or "apartments",
            args.run_date,
            JdbcReader(spark, settings),
            full_refresh=args.full_refresh,
        )
    finally:
        spark.stop()
    write_metrics(args.metrics_path, args.job_name, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
