"""Glue job: build curated facts and dimensions with redshift/merges, refresh the views.

Arguments: --JOB_NAME, optional --run_date YYYY-MM-DD (default: today in UTC), optional --metrics_path.
"""

from __future__ import annotations

import sys


def curate(args, settings, spark):
    from rental_analytics.jobs.curate import run_curate
    from rental_analytics.warehouse import connect

    with connect(settings) as wh:
        return run_curate(wh)


def main(argv: list[str] | None = None) -> int:
    from rental_analytics.jobs.runtime import run_job

    return run_job(argv if argv is not None else sys.argv, curate, needs_spark=False)


if __name__ == "__main__":
    sys.exit(main())
