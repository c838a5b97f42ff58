"""Benchmark: source generation at a scale, and the pipeline's steps on that data.

Prints figures; asserts nothing. Runs in a scratch RENTALS_HOME of its own (its databases
are started and stopped here), so it never touches the default home.

The generator's target is scale 1 (1.2M rows) "well under a minute"; the figure printed
beside it is the ratio of the measured time to 60 s, and rows per second. The import is
also compared side by side, in the same run, with the floor for the same bytes: MariaDB's
own LOAD DATA of the generated CSVs into empty copies of the tables, without parsing,
validation or upsert.

    .venv/bin/python scripts/bench.py --scale 1 [--pipeline]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from datetime import date
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--pipeline", action="store_true", help="also time `rentals run`")
    args = parser.parse_args()

    home = Path(tempfile.mkdtemp(prefix="rentals-bench-", dir="/tmp"))
    stack = LocalStack(home)
    try:
        stack.up()
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
            env = {**os.environ, "RENTALS_HOME": str(home)}
            t3 = time.monotonic()
            proc = subprocess.run(
                [sys.executable, "-m", "rental_analytics.cli", "run", "--run-date",
                 date(2025, 3, 31).isoformat()],
                env=env, capture_output=True, text=True,
            )  # fmt: skip
            print(f"  rentals run       {time.monotonic() - t3:7.1f} s   exit {proc.returncode}")
            print(proc.stderr[-3000:])
            from rental_analytics.runs import RunLedger, runs_root_of

            (record,) = RunLedger(runs_root_of(home)).recent(1)
            secs = {s.state: s.seconds or 0.0 for s in record.steps}
            extracts = [secs.get("ExtractApartments", 0.0), secs.get("ExtractVehicleRentals", 0.0)]
            jobs = sum(secs.values())
            print(
                f"  extracts side by side: {extracts[0]:.1f} s and {extracts[1]:.1f} s "
                f"(sum {sum(extracts):.1f} s) in a branch of {max(extracts):.1f} s; "
                f"all job states {jobs:.1f} s in a run of {time.monotonic() - t3:.1f} s"
            )
            from rental_analytics.report import KPI_VIEWS
            from rental_analytics.warehouse import connect

            with connect(settings) as wh:
                for view in KPI_VIEWS:
                    t4 = time.monotonic()
                    _, n = wh.query(f"select count(*) from presentation.{view}")  # noqa: S608
                    print(f"  query {view:30s} {time.monotonic() - t4:6.2f} s  {n[0][0]:,} rows")
    finally:
        stack.clean()


if __name__ == "__main__":
    main()
