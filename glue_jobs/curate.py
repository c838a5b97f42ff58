"""Glue job: build curated facts and dimensions with redshift/merges, refresh the views.

Arguments: --JOB_NAME, --run_date YYYY-MM-DD, optional --metrics_path.
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    from rental_analytics.jobs.args import resolve_job_args
    from rental_analytics.jobs.curate import run_curate
    from rental_analytics.jobs.runtime import configure_logging, job_settings, write_metrics
    from rental_analytics.warehouse import connect

    configure_logging()
    args = resolve_job_args(argv if argv is not None else sys.argv)
    with connect(job_settings()) as wh:
        result = run_curate(wh)
    write_metrics(args.metrics_path, args.job_name, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
