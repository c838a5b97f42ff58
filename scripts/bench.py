"""Benchmark: source generation at a scale, and the pipeline's steps on that data.

Prints figures; asserts nothing. Runs in a scratch RENTALS_HOME of its own (its databases
are started and stopped here), so it never touches the default home.

The generator's target is scale 1 (1.2M rows) "well under a minute"; the figure printed
beside it is the ratio of the measured time to 60 s, and rows per second. The import is
also compared side by side, in the same run, with the floor for the same bytes: MariaDB's
own LOAD DATA of the generated CSVs into empty copies of the tables, without parsing,
validation or upsert.

With --pipeline it times `rentals run` on that data, then an incremental run after 1% new
and changed rows (apartments changed and bookings and views added in the source database,
a new landing batch of vehicle files at 1% of the scale) and prints its share of the full
run. The full run is its emulator's first, so its job processes start cold (but for
load_raw's, started while the longer extract still runs: local/standby.py); the first
incremental run starts once the job processes the emulator starts ahead while the machine
is idle have warmed (rental_analytics/local/standby.py), as they have between two daily
runs (the wait is printed, not counted); a second
incremental run after another 1% starts them cold (RENTALS_STANDBY_JOBS=0), to show what
that saves. When the performance floor `../shared/perf/baseline.py` is beside the repository (or
named by --baseline), it runs it at the same scale first, in the same session, and prints
the pipeline's ratio to it: absolute times drift on a shared machine, ratios do not.

    .venv/bin/python scripts/bench.py --scale 1 [--pipeline] [--baseline PATH | --no-baseline]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from rental_analytics.config import Settings  # noqa: E402
from rental_analytics.local import source_db  # noqa: E402
from rental_analytics.local.generator import write_csvs  # noqa: E402
from rental_analytics.local.generator_vehicles import (  # noqa: E402
    planned_vehicle_counts,
    write_vehicle_csvs,
)
from rental_analytics.local.importer import import_files, land_vehicle_files  # noqa: E402
from rental_analytics.local.stack import LocalStack  # noqa: E402
from rental_analytics.local.standby import STANDBY_JOBS_ENV, standby_jobs  # noqa: E402


def raw_load_seconds(settings: Settings, files: dict[str, Path]) -> float:
    conn = source_db.connect(settings)
    started = time.monotonic()
    with conn.cursor() as cur:
        for table, path in files.items():
            cur.execute(f"create temporary table bench_{table} like {table}")
            cur.execute(
                f"load data local infile %s into table bench_{table} character set utf8mb4"
                " fields terminated by ',' optionally enclosed by '\"' ignore 1 lines",
                (str(path),),
            )
    conn.commit()
    conn.close()
    return time.monotonic() - started


FIRST_RUN_DATE = date(2025, 3, 31)
DEFAULT_BASELINE = REPO.parent / "shared" / "perf" / "baseline.py"


def run_baseline(path: Path, scale: float) -> float | None:
    """The floor's total seconds at this scale, from the last line of its stdout (JSON)."""
    print(f"floor: {path} --scale {scale}", flush=True)
    proc = subprocess.run(
        [sys.executable, str(path), "--scale", str(scale)], capture_output=True, text=True
    )
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        print(f"  the floor failed (exit {proc.returncode}): {proc.stderr[-1500:]}")
        return None
    result = json.loads(lines[-1])
    total = result.get("baseline_total_s") or result["seconds"]["baseline_total"]
    print(f"  floor total       {total:7.1f} s")
    return float(total)


def memory_in_use() -> int:
    """Bytes of memory the machine's processes hold: MemTotal - MemAvailable (page cache the
    kernel can drop does not count)."""
    fields = {}
    for line in Path("/proc/meminfo").read_text().splitlines():
        name, value = line.split(":", 1)
        fields[name] = int(value.split()[0]) * 1024
    return fields["MemTotal"] - fields["MemAvailable"]


class MemoryPeak:
    """The machine's memory in use, sampled every 0.2 s while the block runs: its peak, and
    its level when the block began (the databases already running, this script)."""

    def __init__(self) -> None:
        self.before = self.peak = 0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._done.wait(0.2):
            self.peak = max(self.peak, memory_in_use())

    def __enter__(self) -> MemoryPeak:
        self.before = self.peak = memory_in_use()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join()
        self.peak = max(self.peak, memory_in_use())

    def describe(self) -> str:
        gib = 1024**3
        return (
            f"machine memory in use: peak {self.peak / gib:.2f} GiB"
            f" ({(self.peak - self.before) / gib:.2f} GiB above its {self.before / gib:.2f} GiB"
            " before the run)"
        )


def timed_run(
    home: Path, run_date: date, env: dict[str, str] | None = None
) -> tuple[float, int, MemoryPeak]:
    """Wall seconds and exit status of one `rentals run`, and the machine's memory peak
    during it; its log tail on failure."""
    env = {**os.environ, **(env or {}), "RENTALS_HOME": str(home)}
    started = time.monotonic()
    with MemoryPeak() as memory:
        proc = subprocess.run(
            [sys.executable, "-m", "rental_analytics.cli", "run", "--run-date", run_date.isoformat()],
            env=env, capture_output=True, text=True,
        )  # fmt: skip
    seconds = time.monotonic() - started
    if proc.returncode != 0:
        print(proc.stderr[-3000:])
    return seconds, proc.returncode, memory


def print_step_seconds(home: Path, wall: float) -> None:
    from rental_analytics.runs import RunLedger, run_dir, runs_root_of

    (record,) = RunLedger(runs_root_of(home)).recent(1)
    secs = {s.state: s.seconds or 0.0 for s in record.steps}
    for state, seconds in secs.items():
        print(f"    {state:24s} {seconds:7.1f} s")
    extracts = [secs.get("ExtractApartments", 0.0), secs.get("ExtractVehicleRentals", 0.0)]
    print(
        f"    extracts side by side: {extracts[0]:.1f} s and {extracts[1]:.1f} s in a branch"
        f" of {max(extracts):.1f} s; all job states {sum(secs.values()):.1f} s in {wall:.1f} s"
    )
    logs = list(run_dir(runs_root_of(home), record.run_id).glob("*.log"))
    warm = [p for p in logs if "standby process: started" in p.read_text(errors="replace")]
    print(f"    job runs in standby processes started ahead: {len(warm)} of {len(logs)}")


def wait_for_standbys(home: Path, timeout: float = 120) -> float:
    """Seconds until the emulator's standby job processes have warmed, as they are between
    two daily runs (rental_analytics/local/standby.py); at most ``timeout``."""
    started = time.monotonic()
    folder = home / "emulator" / "standby"
    count = standby_jobs(dict(os.environ))  # as many as the emulator keeps for this shell
    while count and time.monotonic() - started < timeout:
        logs = [p.read_text(errors="replace") for p in folder.glob("standby-*.log")]
        if len(logs) >= count and all("standby process: warmed" in t for t in logs):
            break
        time.sleep(0.2)
    return time.monotonic() - started


def change_one_percent(settings: Settings, home: Path, scale: float, seed: int, day: date) -> int:
    """1% new and changed rows in both domains, dated `day`; returns the rows touched."""
    stamp = f"{day.isoformat()} 08:00:00"
    conn = source_db.connect(settings)
    touched = 0
    with conn.cursor() as cur:
        cur.execute(
            "update apartments set price = price + 1, last_modified_timestamp = %s"
            " where id %% 100 = 0",
            (stamp,),
        )
        touched += cur.rowcount
        cur.execute("select coalesce(max(booking_id), 0) from bookings")
        (top,) = cur.fetchone()
        cur.execute(
            "insert into bookings select booking_id + %s, user_id, apartment_id, %s, checkin_date,"
            " checkout_date, total_price, currency, booking_status from bookings"
            " where booking_id %% 100 = 1",
            (top, day.isoformat()),
        )
        touched += cur.rowcount
        cur.execute(
            "insert ignore into user_viewing select user_id, apartment_id, %s, is_wishlisted,"
            " call_to_action from user_viewing where (user_id + apartment_id) %% 100 = 0",
            (stamp,),
        )
        touched += cur.rowcount
    conn.commit()
    conn.close()
    files = write_vehicle_csvs(home / "generated" / "vehicle_rentals-1pct", scale * 0.01, seed + 1)
    land_vehicle_files(settings, files.values())
    return touched + sum(planned_vehicle_counts(scale * 0.01).values())


def bench_pipeline(home: Path, settings: Settings, args: argparse.Namespace) -> None:
    floor = None
    if args.baseline and Path(args.baseline).is_file():
        floor = run_baseline(Path(args.baseline), args.scale)
    elif args.baseline:
        print(f"floor: {args.baseline} is not there; own figures only")
    full, status, memory = timed_run(home, FIRST_RUN_DATE)
    ratio = f"   {full / floor:.2f} x the floor" if floor else ""
    print(f"  rentals run       {full:7.1f} s   exit {status}{ratio}")
    print_step_seconds(home, full)
    print(f"    {memory.describe()}")
    from rental_analytics.report import KPI_VIEWS
    from rental_analytics.warehouse import connect

    with connect(settings) as wh:
        for view in KPI_VIEWS:
            t4 = time.monotonic()
            _, n = wh.query(f"select count(*) from presentation.{view}")  # noqa: S608
            print(f"  query {view:30s} {time.monotonic() - t4:6.2f} s  {n[0][0]:,} rows")
    day = FIRST_RUN_DATE + timedelta(days=1)
    touched = change_one_percent(settings, home, args.scale, args.seed, day)
    print(f"  standby processes warm {wait_for_standbys(home):.1f} s after the changes")
    again, status, memory = timed_run(home, day)
    print(
        f"  incremental run   {again:7.1f} s   exit {status}   after {touched:,} new and changed"
        f" rows: {again / full:.0%} of the full run"
    )
    print_step_seconds(home, again)
    print(f"    {memory.describe()}")
    # The same again with every job process started cold: what the standbys save.
    day += timedelta(days=1)
    touched = change_one_percent(settings, home, args.scale, args.seed + 1, day)
    cold, status, memory = timed_run(home, day, {STANDBY_JOBS_ENV: "0"})
    print(
        f"  incremental run   {cold:7.1f} s   exit {status}   after {touched:,} more, its jobs"
        f" started cold ({STANDBY_JOBS_ENV}=0): {cold / full:.0%} of the full run"
    )
    print_step_seconds(home, cold)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--pipeline", action="store_true", help="also time `rentals run`")
    parser.add_argument(
        "--baseline",
        default=str(DEFAULT_BASELINE),
        help="the performance floor to compare with (default: ../shared/perf/baseline.py)",
    )
    parser.add_argument("--no-baseline", dest="baseline", action="store_const", const="")
    parser.add_argument(
        "--keep", action="store_true", help="keep the scratch home (runs, metrics) afterwards"
    )
    args = parser.parse_args()

    home = Path(tempfile.mkdtemp(prefix="rentals-bench-", dir="/tmp"))
    stack = LocalStack(home)
    try:
        stack.up()
        stack.emulator().ensure()  # as `rentals up` does: a run finds it there
        settings = Settings.local(home)
        source_db.ensure_schema(settings)
        t0 = time.monotonic()
        files, rows = write_csvs(home / "generated" / "apartments", args.scale, args.seed)
        t1 = time.monotonic()
        summary = import_files(settings, files.values())
        t2 = time.monotonic()
        floor = raw_load_seconds(settings, files)
        total_rows = sum(rows.values())
        write_s, import_s = t1 - t0, t2 - t1
        print(
            f"scale {args.scale}: {total_rows:,} rows ({', '.join(f'{k} {v:,}' for k, v in rows.items())})"
        )
        print(f"  write CSVs        {write_s:7.1f} s")
        print(f"  import (upsert)   {import_s:7.1f} s   rows upserted {summary.rows_upserted:,}")
        print(
            f"  generate total    {write_s + import_s:7.1f} s   {total_rows / (write_s + import_s):,.0f} rows/s"
        )
        print(f"  vs 60 s target    {(write_s + import_s) / 60:7.2f} x")
        print(f"  raw LOAD DATA     {floor:7.1f} s   import / raw load = {import_s / floor:.2f}")
        t5 = time.monotonic()
        vehicle_files = write_vehicle_csvs(
            home / "generated" / "vehicle_rentals", args.scale, args.seed
        )
        t6 = time.monotonic()
        land_vehicle_files(settings, vehicle_files.values())
        t7 = time.monotonic()
        vehicle_rows = planned_vehicle_counts(args.scale)
        print(
            f"vehicle domain: {sum(vehicle_rows.values()):,} rows "
            f"({', '.join(f'{k} {v:,}' for k, v in vehicle_rows.items())})"
        )
        print(f"  write CSVs        {t6 - t5:7.1f} s")
        print(f"  land (copy+hash)  {t7 - t6:7.1f} s")
        if args.pipeline:
            bench_pipeline(home, settings, args)
    finally:
        if args.keep:
            stack.down()
            print(f"home kept: {home}")
        else:
            stack.clean()


if __name__ == "__main__":
    main()
