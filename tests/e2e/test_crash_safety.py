"""Crash safety: every job killed with SIGKILL at every kill point, and at moments drawn at
random, across repeated runs; the warehouse it converges to equals a run that was never
killed, table by table.

The same source history is played twice in the test home: once cleanly, once with kills.

1. day 1, generated data: each job killed once, at a point where its output is half
   written. Step Functions retries the killed job (its output is idempotent), so the run
   still succeeds.
2. day 2, the bad-input corpus imported on top: the other kill points, same promise.
3. day 3, a second set of vehicle-rental files (lab format, generated with another seed)
   landed: load_raw killed at every attempt, so the run fails; the next run of the same
   day, killed elsewhere, converges.
4. day 4, jobs killed after random delays (the seed is printed on failure).

After it all, every raw_data and curated table, every KPI view and the bookmarks equal the
clean history's. The load ledger may hold more batches than the clean one (a rerun of a
day re-extracts the lookback window), and those extra batches changed no row; the merges'
ledger (raw_data.curated_batches) holds the clean one's rows, and rows for those extra
batches only.
"""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

import pytest

from rental_analytics.local.generator_vehicles import write_vehicle_csvs
from rental_analytics.report import KPI_VIEWS
from rental_analytics.runs import RunLedger
from tests.conftest import empty_source
from tests.support import cli
from tests.support.cli import rentals
from tests.support.secrets_scan import assert_no_secrets

pytestmark = pytest.mark.e2e

CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "bad_input"
SEED = random.randrange(1 << 30)
_RANDOM = random.Random(SEED)

# (run date, data to add first, faults): every kill point of every job appears once.
HISTORY = (
    ("2026-11-20", "generate",
     "extract_apartments@table_written,extract_vehicle_rentals@table_written,"
     "load_raw@batch_merged,curate@in_merge"),
    ("2026-11-21", "corpus",
     "extract_apartments@before_commit,extract_vehicle_rentals@before_commit,"
     "load_raw@batch_staged,curate@merge_done"),
    ("2026-11-22", "vehicle files",
     "extract_apartments@after_commit,extract_vehicle_rentals@after_commit,"
     "load_raw@batch_loaded:3"),
    ("2026-11-22", None, "extract_apartments@table_written,curate@before_views"),
    ("2026-11-23", None,
     f"extract_apartments@{_RANDOM.uniform(2, 12):.1f}s,load_raw@{_RANDOM.uniform(2, 25):.1f}s,"
     f"curate@{_RANDOM.uniform(1, 6):.1f}s"),
)  # fmt: skip


def _add_data(home, what: str | None) -> None:
    if what == "generate":
        rentals(home, "source", "generate", "--scale", "0.01", "--seed", "5")
    elif what == "vehicle files":
        folder = home / "generated" / "vehicle-files-day3"
        write_vehicle_csvs(folder, scale=0.05, seed=13)
        rentals(home, "source", "import", str(folder))
    elif what == "corpus":
        for folder in sorted(p for p in CORPUS.iterdir() if p.is_dir()):
            rentals(home, "source", "import", str(folder))


def _tables(wh) -> tuple[str, ...]:
    _, rows = wh.query(
        "select table_schema || '.' || table_name from information_schema.tables"
        " where table_schema in ('raw_data', 'curated') and table_type = 'BASE TABLE'"
        " and table_name not in ('load_batches', 'curated_batches') order by 1"
    )
    return tuple(r[0] for r in rows) + tuple(f"presentation.{v}" for v in KPI_VIEWS)


def _state(home, wh) -> dict:
    cols, batches = wh.query(
        "select source_table, batch_id, rows_extracted, rows_loaded, rows_rejected,"
        " rows_inserted, rows_updated, rows_deleted from raw_data.load_batches order by 1, 2"
    )
    # Where each table's bookmark stands; the list of batches may be longer after a rerun.
    bookmarks = {
        p.name: json.loads(p.read_text())["tables"] for p in (home / "bookmarks").glob("*.json")
    }
    _, merged = wh.query(
        "select target_table, source_table, batch_id from raw_data.curated_batches"
    )
    return {
        "tables": cli.snapshot(wh, _tables(wh)),
        "batches": {(r[0], r[1]): r[2:] for r in batches},
        "merged": set(merged),
        "bookmarks": bookmarks,
    }


def _reset(home, wh) -> None:
    for sub in ("lake", "bookmarks", "landing", "runs", "notifications"):
        shutil.rmtree(home / sub, ignore_errors=True)
    _, rows = wh.query(
        "select table_schema || '.' || table_name from information_schema.tables"
        " where table_schema in ('raw_data', 'curated') and table_type = 'BASE TABLE'"
    )
    wh.execute("truncate " + ", ".join(r[0] for r in rows))


def _run(home, day: str, faults: str = ""):
    proc = rentals(home, "run", "--run-date", day, check=False,
                   env={"RENTALS_FAIL_JOBS": faults} if faults else None)  # fmt: skip
    return proc, RunLedger(home / "runs").recent(1)[0]


def test_jobs_killed_anywhere_converge_to_the_clean_warehouse(fresh_home, warehouse, settings):
    home = fresh_home
    days = []
    for day, data, _ in HISTORY:
        if day not in days:
            days.append(day)
            _add_data(home, data)
            proc, record = _run(home, day)
            assert record.status == "SUCCEEDED", proc.stderr
    clean = _state(home, warehouse)
    assert clean["tables"]["curated.fact_rentals"] and clean["tables"]["curated.fact_bookings"]
    assert any(r for t, r in clean["tables"].items() if t == "raw_data.rejects")

    # The same history, with kills. The source databases are refilled identically.
    _reset(home, warehouse)
    empty_source(settings)
    killed = 0
    for i, (day, data, faults) in enumerate(HISTORY):
        first_of_day = all(d != day for d, _, _ in HISTORY[:i])
        if first_of_day:
            _add_data(home, data)
        proc, record = _run(home, day, faults)
        attempts = {s.state: len(s.attempts) for s in record.steps}
        killed += sum(1 for s in record.steps for a in s.attempts if "SIGKILL" in a.error + a.cause)
        note = (
            f"seed {SEED}, {day} with {faults}: {record.status} {attempts}\n{proc.stderr[-3000:]}"
        )
        if ":3" in faults:  # killed at every attempt: the run fails, and says which job
            assert record.status == "FAILED", note
            assert "SIGKILL" in (record.error or "") + (record.cause or ""), note
        else:
            assert record.status == "SUCCEEDED", note
    assert killed >= 12, f"only {killed} job runs were killed (seed {SEED})"

    crashed = _state(home, warehouse)
    for table, rows in clean["tables"].items():
        assert crashed["tables"][table] == rows, f"{table} differs after kills (seed {SEED})"
    assert crashed["bookmarks"] == clean["bookmarks"], f"bookmarks differ (seed {SEED})"
    for batch, counts in clean["batches"].items():
        assert crashed["batches"].get(batch) == counts, f"batch {batch} (seed {SEED})"
    for batch, counts in crashed["batches"].items():
        if batch not in clean["batches"]:
            # a batch only the killed history has: a day re-extracted, changing nothing
            assert counts[3:] == (0, 0, 0), f"extra batch {batch} changed rows: {counts}"
    assert clean["merged"] <= crashed["merged"], f"merges' ledger (seed {SEED})"
    for target, *batch in crashed["merged"] - clean["merged"]:
        assert tuple(batch) not in clean["batches"], f"{target} merged {batch} (seed {SEED})"
    assert assert_no_secrets(home) > 20
