"""Glue job: load committed raw batches into raw_data.stg_* (rules, rejects, merge).

Arguments: --JOB_NAME, optional --run_date YYYY-MM-DD (default: today in UTC), optional --metrics_path.
"""

from __future__ import annotations

import sys


def load(args, settings, spark):
    from rental_analytics.jobs.load_raw import run_load_raw
    from rental_analytics.warehouse import connect

    with connect(settings) as wh:
        return run_load_raw(spark, settings, wh)


def main(argv: list[str] | None = None) -> int:
    from rental_analytics.jobs.runtime import run_job

    return run_job(argv if argv is not None else sys.argv, load)


if __name__ == "__main__":
    sys.exit(main())
