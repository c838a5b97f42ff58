from datetime import date

import pytest

from rental_analytics.config import ConfigError
from rental_analytics.jobs.args import resolve_job_args


def test_required_and_defaults():
    args = resolve_job_args(["job.py", "--JOB_NAME", "extract", "--run_date", "2024-05-01"])
    assert args.job_name == "extract"
    assert args.run_date == date(2024, 5, 1)
    assert args.domain == "" and args.full_refresh == () and args.metrics_path == ""


def test_optional_arguments():
    args = resolve_job_args(
        ["job.py", "--JOB_NAME", "x", "--run_date", "2024-05-01", "--domain", "apartments",
         "--full_refresh", "bookings, apartments"]
    )  # fmt: skip
    assert args.domain == "apartments"
    assert args.full_refresh == ("bookings", "apartments")


@pytest.mark.parametrize(
    "extra",
    [["--run_date", "01/05/2024"], ["--run_date", "2024-05-01", "--domain", "cars"],
     ["--run_date", "2024-05-01", "--full_refresh", "x;drop table y"]],
)  # fmt: skip
def test_bad_arguments_are_refused(extra):
    with pytest.raises(ConfigError):
        resolve_job_args(["job.py", "--JOB_NAME", "x", *extra])


def test_missing_run_date_is_refused():
    with pytest.raises(Exception, match="run_date"):
        resolve_job_args(["job.py", "--JOB_NAME", "x"])
