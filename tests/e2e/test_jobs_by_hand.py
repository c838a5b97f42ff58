"""Each Glue job started on its own, as an engineer reruns one step after an incident: the
Glue console's "Run job" or `aws glue start-job-run --job-name J` passes nothing but the
job's deployed default arguments (and Glue's own), so no --run_date and no --run_id.

Locally the same: ``python glue_jobs/<script> --JOB_NAME <job> [--domain ...]`` with
RENTALS_HOME set. The run date is then today's UTC date, logged as such; an extract commits
a batch, load_raw loads every committed batch, curate merges.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from rental_analytics.config import DOMAINS, Settings
from rental_analytics.local.orchestration import JOBS
from rental_analytics.sources.bookmarks import BookmarkStore
from tests.support.cli import rentals

REPO_GLUE_JOBS = Path(__file__).resolve().parents[2] / "glue_jobs"


def _run_job(home, job) -> subprocess.CompletedProcess:
    argv = [sys.executable, str(REPO_GLUE_JOBS / job.script), "--JOB_NAME", job.name]
    for key, value in job.default_arguments.items():  # what deploy gives the Glue job
        argv += [key, value]
    proc = subprocess.run(
        argv, env={**os.environ, "RENTALS_HOME": str(home)},
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, f"{job.name} failed:\n{proc.stderr[-4000:]}"
    return proc


def test_each_job_started_with_its_default_arguments_does_its_part(fresh_home, warehouse):
    rentals(fresh_home, "source", "generate", "--scale", "0.002", "--seed", "7")
    today = datetime.now(UTC).date()
    by_name = {j.name: j for j in JOBS}

    for name in ("extract_apartments", "extract_vehicle_rentals"):
        proc = _run_job(fresh_home, by_name[name])
        assert f"run date {today.isoformat()}, today in UTC: no --run_date given" in proc.stderr
    root = Settings.local(fresh_home).bookmarks_root
    committed = {d: BookmarkStore(root, d).load().batches for d in DOMAINS}
    assert {d: [b.run_date for b in batches] for d, batches in committed.items()} == {
        d: [today.isoformat()] for d in DOMAINS
    }

    _run_job(fresh_home, by_name["load_raw"])
    _, rows = warehouse.query("select batch_id, rows_loaded from raw_data.load_batches")
    assert {r[0] for r in rows} >= {b[0].batch_id for b in committed.values()}
    assert all(r[1] > 0 for r in rows)

    _run_job(fresh_home, by_name["curate"])
    for table in ("curated.dim_listings", "curated.fact_bookings", "curated.fact_rentals"):
        _, ((count,),) = warehouse.query(f"select count(*) from {table}")  # noqa: S608
        assert count > 0, table
