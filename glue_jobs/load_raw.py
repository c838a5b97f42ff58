"""Glue job: load committed raw batches into raw_data.stg_* (rules, rejects, merge).

Arguments: --JOB_NAME, optional --run_date YYYY-MM-DD (default: today in UTC), optional --metrics_path.
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    from rental_analytics.jobs import load_raw
    from rental_analytics.jobs.runtime import run_job

    return run_job(argv if argv is not None else sys.argv, load_raw.run)


if __name__ == "__main__":
    sys.exit(main())
