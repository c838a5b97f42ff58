"""Faults injected into each job in turn, with the real jobs: retries, alerts, state left.

A fault (RENTALS_FAIL_JOBS) fails a job run as it starts. What each failed execution may
leave is what the jobs promise: the failed job moved no bookmark and wrote nothing, jobs
that finished before it committed their own output, and a following clean run ends with
the curated layer and every KPI equal to those of a run that never failed.
"""

from __future__ import annotations

import json
import shutil

import pytest

from rental_analytics.local.standby import STANDBY_JOBS_ENV
from rental_analytics.report import KPI_VIEWS
from rental_analytics.runs import RunLedger
from tests.support import cli
from tests.support.cli import rentals

pytestmark = pytest.mark.e2e

RUN_DATE = "2026-11-23"


def _bookmarks(home) -> dict[str, str]:
    folder = home / "bookmarks"
    return {p.name: p.read_text() for p in folder.glob("*.json")} if folder.exists() else {}


def _run(home, faults: str, env: dict[str, str] | None = None):
    proc = rentals(home, "run", "--run-date", RUN_DATE, check=False,
                   env={"RENTALS_FAIL_JOBS": faults, **(env or {})})  # fmt: skip
    record = RunLedger(home / "runs").recent(1)[0]
    return proc, record, {s.state: s for s in record.steps}


def _alert(home, run_id: str) -> dict:
    (alert,) = [
        doc
        for p in sorted((home / "notifications").glob("*.json"))
        if json.loads((doc := json.loads(p.read_text()))["message"])["run_id"] == run_id
    ]
    return {**alert, "message": json.loads(alert["message"])}


def _count(wh, table: str) -> int:
    return wh.query(f"select count(*) from {table}")[1][0][0]  # noqa: S608 - test tables


def _curated_and_kpis(wh) -> dict[str, list]:
    _, rows = wh.query(
        "select table_schema || '.' || table_name from information_schema.tables"
        " where table_schema = 'curated' and table_type = 'BASE TABLE' order by 1"
    )
    tables = tuple(r[0] for r in rows) + tuple(f"presentation.{v}" for v in KPI_VIEWS)
    return cli.snapshot(wh, tables)


def test_faults_in_each_job_then_a_clean_run(fresh_home, warehouse):
    home = fresh_home
    rentals(home, "source", "generate", "--scale", "0.01", "--seed", "11")

    # An extract that always fails: three attempts, an alert, its sibling stopped while
    # still running, so neither domain's bookmark moved and nothing was loaded.
    # The apartments extract must still be running when the third attempt fails: started
    # as a process of its own (no warm standby), it takes seconds before its first row.
    proc, record, steps = _run(home, "extract_vehicle_rentals:9", {STANDBY_JOBS_ENV: "0"})
    assert proc.returncode != 0 and record.status == "FAILED"
    assert "ExtractVehicleRentals" in proc.stderr and "FAILED" in proc.stderr
    assert len(steps["ExtractVehicleRentals"].attempts) == 3
    assert steps["ExtractApartments"].status == "STOPPED"
    assert "LoadRaw" not in steps
    alert = _alert(home, record.run_id)
    assert alert["message"]["failed_state"] == "ExtractVehicleRentals"
    assert "injected fault" in alert["message"]["cause"]
    assert _bookmarks(home) == {}
    assert _count(warehouse, "raw_data.load_batches") == 0

    # load_raw always fails: the extracts committed their batches (durable in the lake,
    # so their bookmarks moved), and the batches wait: nothing is staged.
    proc, record, steps = _run(home, "load_raw:9")
    assert record.status == "FAILED" and len(steps["LoadRaw"].attempts) == 3
    assert _alert(home, record.run_id)["message"]["failed_state"] == "LoadRaw"
    assert set(_bookmarks(home)) == {"apartments.json", "vehicle_rentals.json"}
    assert _count(warehouse, "raw_data.load_batches") == 0
    assert _count(warehouse, "curated.fact_bookings") == 0

    # curate always fails: staging is loaded, the curated layer untouched.
    bookmarks = _bookmarks(home)
    proc, record, steps = _run(home, "curate:9")
    assert record.status == "FAILED" and len(steps["Curate"].attempts) == 3
    assert _alert(home, record.run_id)["message"]["failed_state"] == "Curate"
    assert _count(warehouse, "raw_data.load_batches") > 0
    assert _count(warehouse, "curated.fact_bookings") == 0
    assert _bookmarks(home).keys() == bookmarks.keys()

    # curate fails once: retried, and the execution succeeds.
    proc, record, steps = _run(home, "curate:1")
    assert proc.returncode == 0, proc.stderr
    assert record.status == "SUCCEEDED" and len(steps["Curate"].attempts) == 2
    assert "SUCCEEDED" in proc.stderr
    after_faults = _curated_and_kpis(warehouse)
    assert any(after_faults[f"presentation.{v}"] for v in KPI_VIEWS)

    # The same source, run once from scratch without any fault.
    for sub in ("lake", "bookmarks"):
        shutil.rmtree(home / sub)
    _, rows = warehouse.query(
        "select table_schema || '.' || table_name from information_schema.tables"
        " where table_schema in ('raw_data', 'curated') and table_type = 'BASE TABLE'"
    )
    warehouse.execute("truncate " + ", ".join(r[0] for r in rows))
    proc, record, _ = _run(home, "")
    assert record.status == "SUCCEEDED", proc.stderr
    assert _curated_and_kpis(warehouse) == after_faults
