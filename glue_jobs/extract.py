"""Glue job: extract one source domain incrementally into raw Parquet (jobs/extract.py).

Arguments: --JOB_NAME, --domain apartments|vehicle_rentals, optional --run_date YYYY-MM-DD
(default: today in UTC), --full_refresh t1,t2|all, --metrics_path.
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    from rental_analytics.jobs import extract
    from rental_analytics.jobs.runtime import run_job

    return run_job(argv if argv is not None else sys.argv, extract.run)


if __name__ == "__main__":
    sys.exit(main())
