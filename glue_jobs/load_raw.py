"""Glue job: load committed raw batches into raw_data.stg_* (rules, rejects, merge).

Arguments: --JOB_NAME, --run_date YYYY-MM-DD, optional --metrics_path.
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    from rental_analytics.jobs.args import resolve_job_args
    from rental_analytics.jobs.load_raw import run_load_raw
    from rental_analytics.jobs.runtime import (
        configure_logging,
        job_settings,
        job_spark,
        write_metrics,
    )
    from rental_analytics.warehouse import connect

    configure_logging()
    args = resolve_job_args(argv if argv is not None else sys.argv)
    settings = job_settings()
    spark = job_spark(args.job_name, settings)
    try:
        with connect(settings) as wh:
            result = run_load_raw(spark, settings, wh)
    finally:
        spark.stop()
    write_metrics(args.metrics_path, args.job_name, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
