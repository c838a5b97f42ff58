"""The bad-input corpus (tests/fixtures/bad_input) through `rentals source import` and
`rentals run`: every input line is found in the warehouse or in raw_data.rejects with its
reason, the run succeeds (row-level problems are rejects, not failures), and the KPIs equal
those computed independently from the good rows alone.

Each folder's expected outcome is written by hand, line by line
(``vehicle_rentals.expected.json``, ``apartments/expected.json``): ``loaded`` (the line is
the staged version of its key, value for value) or ``rejected`` with the rule it breaks.
Apartments-domain lines are refused by ``rentals source import`` (they never reach the
source database); vehicle-domain lines land as they are and are refused by load_raw.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from tests.e2e.test_pipeline_apartments import source_rows
from tests.support import kpi_reference, kpi_reference_vehicles
from tests.support.cli import normalized, rentals, view_rows
from tests.support.secrets_scan import assert_no_secrets

pytestmark = pytest.mark.e2e

CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "bad_input"
VEHICLES = CORPUS / "vehicle_rentals"
TABLE_OF_FILE = {
    "vehicles.csv": ("vehicles", "vehicle_id"),
    "locations.csv": ("locations", "location_id"),
    "users.csv": ("rental_users", "user_id"),
    "rental_transactions.csv": ("rental_transactions", "rental_id"),
}


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def _fields(line: str) -> list[str]:
    return next(csv.reader(io.StringIO(line)))


def _staged(wh, table: str, key: str, value: str) -> dict | None:
    cols, rows = wh.query(
        f"select * from raw_data.stg_{table} where cast({key} as varchar) = %(v)s",  # noqa: S608
        {"v": value},
    )
    assert len(rows) <= 1, f"{table} {key}={value} staged {len(rows)} times"
    return dict(zip(cols, rows[0], strict=True)) if rows else None


def _rejects(wh, table: str) -> list[dict]:
    cols, rows = wh.query(
        "select record_key, rule, reason, raw_row, batch_id from raw_data.rejects"
        " where source_table = %(t)s",
        {"t": table},
    )
    return [dict(zip(cols, r, strict=True)) for r in rows]


def _reject_of(rejects: list[dict], file_key: str, line: str, header: list[str]) -> dict:
    """The reject row holding this line: its landed text, field by field or whole."""
    found = []
    for r in rejects:
        raw = json.loads(r["raw_row"])
        if raw.get("source_file") != file_key:
            continue
        if "record" in raw:  # a malformed record keeps its line as it was
            if raw["record"] == line:
                found.append(r)
            continue
        fields = dict(zip(header, _fields(line), strict=False))
        if all((raw.get(k) or "") == v for k, v in fields.items()):
            found.append(r)
    assert len(found) == 1, f"{file_key}: line {line[:60]!r} found in {len(found)} rejects"
    return found[0]


def _good_rows_only(expected: dict, folder: Path) -> Path:
    """A copy of the corpus holding only the lines expected to load."""
    for name, outcomes in expected.items():
        lines = _lines(VEHICLES / name)
        good = {c["line"] for c in outcomes if c["outcome"] == "loaded"}
        kept = [lines[0]] + [line for n, line in enumerate(lines, 1) if n in good]
        (folder / name).write_text("\n".join(kept) + "\n", encoding="utf-8")
    return folder


def test_every_bad_input_row_is_loaded_or_rejected_and_kpis_use_good_rows(
    fresh_home, warehouse, tmp_path
):
    home = fresh_home
    imported = rentals(home, "source", "import", str(VEHICLES))
    proc = rentals(home, "run", "--run-date", "2024-06-30")
    assert "SUCCEEDED" in proc.stderr, proc.stderr
    shown = proc.stderr[proc.stderr.index("reconciliation per batch") :]
    assert "rental_transactions" in shown and "NO" not in shown

    expected = json.loads((CORPUS / "vehicle_rentals.expected.json").read_text())
    (batch_dir,) = sorted((home / "landing" / "rental_transactions").iterdir())
    checked = 0
    for name, outcomes in expected.items():
        table, key = TABLE_OF_FILE[name]
        lines = _lines(VEHICLES / name)
        header = _fields(lines[0])
        file_key = f"{table if table != 'rental_users' else 'users'}/{batch_dir.name}/{name}"
        rejects = _rejects(warehouse, table)
        assert len(outcomes) == len(lines) - 1, f"{name}: expectations do not cover every line"
        for case in outcomes:
            line = lines[case["line"] - 1]
            where = f"{name} line {case['line']}"
            if case["outcome"] == "loaded":
                values = dict(zip(header, _fields(line), strict=True))
                row = _staged(warehouse, table, key, values[key])
                assert row is not None, f"{where}: not staged"
                for column in ("registration_name", "location_name", "last_name", "first_name",
                               "rental_id", "base_address"):  # fmt: skip
                    if column in values:
                        assert row[column] == values[column], f"{where}: {column} changed"
            else:
                reject = _reject_of(rejects, file_key, line, header)
                assert reject["rule"] == case["rule"], f"{where}: {reject}"
                assert reject["reason"], f"{where}: reject without a reason"
            checked += 1
    assert checked == sum(len(v) for v in expected.values())

    # The batch reconciles, and the run's numbers say so.
    _, batches = warehouse.query(
        "select source_table, rows_extracted, rows_loaded, rows_rejected"
        " from raw_data.load_batches order by 1"
    )
    for table, extracted, loaded, rejected in batches:
        assert extracted == loaded + rejected, table
        want = sum(
            1
            for name, outcomes in expected.items()
            if TABLE_OF_FILE[name][0] == table
            for case in outcomes
        )
        assert extracted == want, table

    # The KPIs are those of the good rows alone, computed without the pipeline.
    want_kpis = kpi_reference_vehicles.compute_vehicle_kpis([_good_rows_only(expected, tmp_path)])
    for view in kpi_reference_vehicles.VIEW_COLUMNS:
        assert view_rows(warehouse, view) == normalized(want_kpis[view]), view
    assert "landed" in imported.stdout + imported.stderr
    outputs = (imported.stdout, imported.stderr, proc.stdout, proc.stderr)
    assert assert_no_secrets(home, *outputs) > 10


APARTMENTS = CORPUS / "apartments"
APARTMENT_KEYS = {
    "apartments.csv": ("apartments", ("id",)),
    "apartment_attributes.csv": ("apartment_attributes", ("id",)),
    "bookings.csv": ("bookings", ("booking_id",)),
    "user_viewing.csv": ("user_viewing", ("user_id", "apartment_id", "viewed_at")),
}


def test_apartments_bad_input_through_import_and_run(fresh_home, warehouse, settings):
    """The apartments corpus: a line the import takes is staged by the run, value for value;
    a line it refuses is in raw_data.rejects with its rule; the KPIs are those of the lines
    taken (checkout before checkin, a negative price and an unknown listing among them)."""
    home = fresh_home
    imported = rentals(home, "source", "import", str(APARTMENTS))
    proc = rentals(home, "run", "--run-date", "2024-06-30")
    assert "SUCCEEDED" in proc.stderr, proc.stderr

    expected = json.loads((APARTMENTS / "expected.json").read_text(encoding="utf-8"))
    for name, cases in expected.items():
        table, key = APARTMENT_KEYS[name]
        _, staged = warehouse.query(f"select count(*) from raw_data.stg_{table}")  # noqa: S608
        loaded = [c for c in cases if c["outcome"] == "loaded"]
        assert staged == [(len(loaded),)], f"{name}: staged rows"
        for case in loaded:
            values = case["values"]
            where = " and ".join(f"cast({k} as varchar) = %({k})s" for k in key)
            cols, rows = warehouse.query(
                f"select * from raw_data.stg_{table} where {where}",  # noqa: S608
                {k: values[k] for k in key},
            )
            assert len(rows) == 1, f"{name} line {case['line']}: staged {len(rows)} times"
            row = dict(zip(cols, rows[0], strict=True))
            for column in ("title", "booking_status", "cityname", "call_to_action"):
                if column in values:
                    assert row[column] == values[column], f"{name} line {case['line']}"
        _, rejected = warehouse.query(
            "select rule, count(*) from raw_data.rejects where source_table = %(t)s group by 1",
            {"t": table},
        )
        want = {}
        for case in cases:
            if case["outcome"] == "rejected":
                want[case["rule"]] = want.get(case["rule"], 0) + 1
        assert dict(rejected) == want, name

    # Every batch of the run and of the import reconciles.
    _, batches = warehouse.query(
        "select source_table, batch_id from raw_data.load_batches"
        " where rows_extracted <> rows_loaded + rows_rejected"
    )
    assert batches == []

    # The KPIs are those computed, without the pipeline, from the rows the import took.
    src = source_rows(settings)
    want_kpis = kpi_reference.all_kpis(
        src["apartments"], src["apartment_attributes"], src["bookings"]
    )
    for view, rows in want_kpis.items():
        assert view_rows(warehouse, view) == normalized(rows), view
    _, facts = warehouse.query("select booking_id from curated.fact_bookings order by 1")
    assert (115,) not in facts and (116,) in facts and (117,) in facts
    outputs = (imported.stdout, imported.stderr, proc.stdout, proc.stderr)
    assert assert_no_secrets(home, *outputs) > 10
