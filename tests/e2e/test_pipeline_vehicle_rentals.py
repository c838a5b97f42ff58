"""The vehicle-rentals pipeline end to end through the `rentals` command on the real local
stack: CSV batches imported into the landing zone, runs, and every view compared row by
row with the KPIs computed independently from the CSV files (tests/support/kpi_reference_vehicles).
"""

from __future__ import annotations

import csv
import os
from decimal import Decimal
from pathlib import Path

import pytest

from rental_analytics.local.generator_vehicles import write_vehicle_csvs
from rental_analytics.local.stack import LocalStack
from tests.support import cli, kpi_reference_vehicles
from tests.support.cli import normalized, rentals, view_rows

VIEWS = tuple(kpi_reference_vehicles.VIEW_COLUMNS)
TABLES = (
    "raw_data.stg_vehicles", "raw_data.stg_locations", "raw_data.stg_rental_users",
    "raw_data.stg_rental_transactions", "raw_data.rejects", "raw_data.load_batches",
    "curated.dim_vehicles", "curated.dim_locations", "curated.dim_customers",
    "curated.fact_rentals",
)  # fmt: skip
STG = {
    "vehicles": "raw_data.stg_vehicles",
    "locations": "raw_data.stg_locations",
    "rental_users": "raw_data.stg_rental_users",
    "rental_transactions": "raw_data.stg_rental_transactions",
}
KEYS = {
    "vehicles": "vehicle_id",
    "locations": "location_id",
    "rental_users": "user_id",
    "rental_transactions": "rental_id",
}
FILE_TABLE = {
    "vehicles.csv": "vehicles",
    "locations.csv": "locations",
    "location.csv": "locations",
    "users.csv": "rental_users",
    "rental_transactions.csv": "rental_transactions",
}
LAB = Path(__file__).resolve().parents[3] / "shared" / "datasets" / "car-rental-emr-lab"


def assert_views_match(wh, batches):
    expected = kpi_reference_vehicles.compute_vehicle_kpis(batches)
    for view in VIEWS:
        got, want = view_rows(wh, view), normalized(expected[view])
        assert got == want, (
            f"{view}: {len(got - want)} unexpected rows, e.g. {sorted(got - want, key=str)[:3]}; "
            f"{len(want - got)} missing, e.g. {sorted(want - got, key=str)[:3]}"
        )
        assert want, f"{view} is empty: the test data does not exercise it"


def read_csv(path: Path) -> tuple[list[str], list[list[str]]]:
    with open(path, newline="", encoding="utf-8-sig") as fh:
        rows = list(csv.reader(fh))
    return rows[0], rows[1:]


def write_csv(path: Path, header, rows) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def assert_every_row_accounted(wh, batches):
    """Each landed CSV row was extracted, and each key is in its stg table or a reject."""
    landed: dict[str, int] = {}
    keys: dict[str, set[str]] = {}
    for directory in batches:
        for path in directory.glob("*.csv"):
            table = FILE_TABLE[path.name]
            header, rows = read_csv(path)
            landed[table] = landed.get(table, 0) + len(rows)
            position = header.index(KEYS[table])
            keys.setdefault(table, set()).update(r[position] for r in rows)
    _, ledger = wh.query(
        "select source_table, sum(rows_extracted), sum(rows_loaded + rows_rejected)"
        " from raw_data.load_batches group by source_table"
    )
    extracted = {t: (int(e), int(a)) for t, e, a in ledger}
    for table, count in landed.items():
        assert extracted[table] == (count, count), f"{table}: landed {count}, {extracted[table]}"
        _, stg = wh.query(f"select cast({KEYS[table]} as varchar) from {STG[table]}")  # noqa: S608
        _, rejected = wh.query(
            "select record_key from raw_data.rejects where source_table = %s", (table,)
        )
        found = {r[0] for r in stg} | {r[0] for r in rejected}
        assert keys[table] <= found, f"{table}: keys lost: {sorted(keys[table] - found)[:5]}"


def snapshot(wh) -> dict[str, list]:
    return cli.snapshot(wh, TABLES + tuple(f"presentation.{v}" for v in VIEWS))


def second_batch(first: Path, directory: Path) -> Path:
    """New transactions (one on a vehicle that lands in this batch, one on a vehicle that
    never lands), a changed amount, and a rewritten vehicles file: newer versions with
    other types, the new vehicle, and one version older than what is loaded (stale)."""
    v_header, vehicles = read_csv(first / "vehicles.csv")
    t_header, transactions = read_csv(first / "rental_transactions.csv")
    vid, vtype, vts = (
        v_header.index(c) for c in ("vehicle_id", "vehicle_type", "last_update_timestamp")
    )
    rented = {t[t_header.index("vehicle_id")] for t in transactions}
    types = ("basic", "premium", "high_end")
    rewritten = []
    for row in [v for v in vehicles if v[vid] in rented][:25]:
        new = list(row)
        new[vtype] = types[(types.index(row[vtype]) + 1) % 3]
        new[vts] = "02-06-2024 09:00:00"  # newer than every generated version
        rewritten.append(new)
    chosen = {r[vid] for r in rewritten}
    stale = list(next(v for v in vehicles if v[vid] in rented and v[vid] not in chosen))
    stale[vtype], stale[vts] = "basic", "01-01-2000 00:00:00"
    late = list(rewritten[0])
    late[vid], late[vtype] = "feedfeed01", "high_end"
    write_csv(directory / "vehicles.csv", v_header, [*rewritten, late, stale])

    col = {name: i for i, name in enumerate(t_header)}
    template = transactions[0]
    changed = list(transactions[1])
    changed[col["total_amount"]] = "1234.5"
    new_rows = [changed]
    for n, (vehicle, start, end, amount) in enumerate(
        [
            ("feedfeed01", "2024-06-01 22:30:00", "2024-06-02 01:10:00", "133.33"),
            ("0000000bad", "2024-06-01 08:00:00", "2024-06-01 09:20:00", "26.67"),
            (template[col["vehicle_id"]], "2024-05-31 23:00:00", "2024-06-01 00:30:00", "15.0"),
        ]
    ):
        row = list(template)
        row[col["rental_id"]] = f"ffff00000{n}"
        row[col["vehicle_id"]], row[col["rental_start_time"]] = vehicle, start
        row[col["rental_end_time"]], row[col["total_amount"]] = end, amount
        new_rows.append(row)
    write_csv(directory / "rental_transactions.csv", t_header, new_rows)
    return directory


def test_landing_batches_end_to_end(fresh_home, warehouse, tmp_path):
    home = fresh_home
    # An empty landing zone and an empty source database: a normal, successful run.
    rentals(home, "run", "--run-date", "2024-06-01")
    _, summary = warehouse.query("select * from presentation.vw_rental_business_summary")
    assert summary == [(0, Decimal("0.00"), 0, 0, None, None)]

    first = tmp_path / "batch1"
    write_vehicle_csvs(first, 0.02, 5)
    (first / "locations.csv").rename(first / "location.csv")  # the lab's name for it
    imported = rentals(home, "source", "import", str(first))
    assert "landed as" in imported.stderr
    rentals(home, "run", "--run-date", "2024-06-01")
    assert_views_match(warehouse, [first])
    assert_every_row_accounted(warehouse, [first])

    before = snapshot(warehouse)
    rentals(home, "run", "--run-date", "2024-06-01")  # no new file: nothing changes
    assert snapshot(warehouse) == before

    second = second_batch(first, tmp_path / "batch2")
    rentals(home, "source", "import", str(second))
    rentals(home, "run", "--run-date", "2024-06-02")
    assert_views_match(warehouse, [first, second])
    assert_every_row_accounted(warehouse, [first, second])
    _, stale = warehouse.query(
        "select reason from raw_data.rejects where source_table = 'vehicles' and raw_row like %s",
        ("%01-01-2000 00:00:00%",),
    )
    assert len(stale) == 1 and "newer version is already loaded" in stale[0][0]
    _, late = warehouse.query(
        "select vehicle_type from presentation.vw_vehicle_type_performance"
        " where vehicle_type = 'unknown'"
    )
    assert late, "the transaction on a vehicle that never landed is attributed to 'unknown'"
    again = rentals(home, "source", "import", str(second))
    assert again.stderr.count("not landed again") == 2


def test_rewritten_landed_file_is_processed_again(fresh_home, warehouse, tmp_path):
    home = fresh_home
    first = tmp_path / "batch1"
    write_vehicle_csvs(first, 0.01, 11)
    rentals(home, "source", "import", str(first))
    rentals(home, "run", "--run-date", "2024-06-01")

    # Rewrite the landed transactions file in place, as an S3 PUT to the same key would.
    (landed,) = (home / "landing" / "rental_transactions").rglob("*.csv")
    header, rows = read_csv(landed)
    amount = header.index("total_amount")
    rows[0][amount] = "9999.99"
    del rows[1]  # a row missing from the new version stays: rows replace by key
    write_csv(landed, header, rows)
    st = landed.stat()
    os.utime(landed, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    replacement = tmp_path / "replacement"
    write_csv(replacement / "rental_transactions.csv", header, rows)

    rentals(home, "run", "--run-date", "2024-06-02")
    assert_views_match(warehouse, [first, replacement])
    _, ledger = warehouse.query(
        "select rows_extracted, rows_updated from raw_data.load_batches"
        " where source_table = 'rental_transactions' order by batch_id"
    )
    assert ledger[-1] == (len(rows), 1)


@pytest.mark.skipif(not LAB.is_dir(), reason=f"lab dataset not present at {LAB}")
def test_lab_car_rental_data(fresh_home, warehouse):
    rentals(fresh_home, "source", "import", str(LAB))
    rentals(fresh_home, "run", "--run-date", "2024-06-01")
    _, rows = warehouse.query(
        "select transactions, revenue, unique_users from presentation.vw_rental_business_summary"
    )
    # Totals computed from rental_transactions.csv directly:
    with open(LAB / "rental_transactions.csv", newline="") as fh:
        lab = list(csv.DictReader(fh))
    revenue = sum(Decimal(r["total_amount"]) for r in lab)
    assert len(lab) == 20_080 and len({r["user_id"] for r in lab}) == 10_000
    assert rows == [(20_080, revenue.quantize(Decimal("0.01")), 10_000)]
    assert_views_match(warehouse, [LAB])
    assert_every_row_accounted(warehouse, [LAB])


def test_the_pipeline_runs_with_the_owners_login_disabled(fresh_home, warehouse, tmp_path):
    """SPEC 8: jobs log in as rentals_job and run no DDL, so once `rentals up` has applied
    the warehouse as its owner, the owner's login can be switched off and runs go on."""
    home = fresh_home
    rentals(home, "up")
    # `rentals up` started the local AWS too, and the run found it there.
    emulator_pid = LocalStack(home).emulator().pid_file.read_text()
    first = tmp_path / "batch1"
    write_vehicle_csvs(first, 0.02, 5)
    rentals(home, "source", "import", str(first))
    rentals(home, "run", "--run-date", "2024-06-01")
    assert LocalStack(home).emulator().pid_file.read_text() == emulator_pid
    warehouse.execute("alter role rentals_owner nologin")
    try:
        second = second_batch(first, tmp_path / "batch2")
        rentals(home, "source", "import", str(second))
        rentals(home, "run", "--run-date", "2024-06-02")
        assert_views_match(warehouse, [first, second])
        refused = rentals(home, "sql", "--as", "owner", "select 1", check=False)
        assert refused.returncode != 0 and "rentals_owner" in refused.stderr
        denied = rentals(
            home, "sql", "--as", "analyst", "select * from raw_data.stg_rental_users",
            check=False,
        )  # fmt: skip
        assert denied.returncode != 0 and "permission denied" in denied.stderr
        report = rentals(home, "report")  # the analyst's
        assert "vw_rental_business_summary" in report.stdout
    finally:
        warehouse.execute("alter role rentals_owner login")
