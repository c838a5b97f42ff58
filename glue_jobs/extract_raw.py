"""Glue job: extract one source domain incrementally into raw Parquet.

Arguments: --JOB_NAME, --run_date YYYY-MM-DD, --domain apartments|vehicle_rentals,
optional --full_refresh t1,t2|all, --metrics_path.
"""

from __future__ import annotations

import sys


def extract(args, settings, spark):
    from rental_analytics.sources.extract import JdbcReader, extract_domain

    return extract_domain(
        spark,
        settings,
        args.domain or "apartments",
        args.run_date,
        JdbcReader(spark, settings),
        full_refresh=args.full_refresh,
    )


def main(argv: list[str] | None = None) -> int:
    from rental_analytics.jobs.runtime import run_job

    return run_job(argv if argv is not None else sys.argv, extract)


if __name__ == "__main__":
    sys.exit(main())
