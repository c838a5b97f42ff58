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


def test_without_run_date_the_run_date_is_todays_utc_date():
    from datetime import UTC, datetime

    before = datetime.now(UTC).date()
    args = resolve_job_args(["job.py", "--JOB_NAME", "x"])
    assert before <= args.run_date <= datetime.now(UTC).date()
    assert args.run_date_given is False
    assert resolve_job_args(
        ["job.py", "--JOB_NAME", "x", "--run_date", "2024-05-01"]
    ).run_date_given


@pytest.mark.parametrize("value", ["", "yesterday", "2024-02-30"])
def test_a_run_date_given_must_be_a_date(value):
    """An explicit empty or wrong value is an error, not today's date."""
    argv = ["job.py", "--JOB_NAME", "x", "--run_date", value]
    if value == "":
        # Given with no value: the workflow never does this; it reads as not given.
        assert resolve_job_args(argv).run_date_given is False
        return
    with pytest.raises(ConfigError, match="run date"):
        resolve_job_args(argv)


def test_job_name_is_required():
    with pytest.raises(Exception, match="JOB_NAME"):
        resolve_job_args(["job.py", "--run_date", "2024-05-01"])
