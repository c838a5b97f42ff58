"""What a curated merge compares (redshift/merges, raw_data.curated_batches): the keys of the
stg rows of batches it has not merged yet, and every key when a pending batch is a full
refresh or the merge has recorded no batch.

A curated row changed behind the pipeline's back shows which keys a merge compared: it is
put back only when its key was compared.
"""

from __future__ import annotations

from datetime import date, datetime

import pytest

from rental_analytics.jobs.curate import merge_target, run_curate
from tests.support.vehicle_rows import put_stg_vehicle
from tests.support.warehouse_rows import (
    MERGE_FILES,
    put_stg_apartment,
    put_stg_attributes,
    put_stg_booking,
    put_stg_view,
    record_batch,
    rows,
    run_merges,
)

SCOPED = ("dim_listings", "fact_bookings", "fact_user_views", "dim_vehicles")
LEDGER = (
    "select target_table, source_table, batch_id from raw_data.curated_batches"
    " order by target_table, source_table, batch_id"
)
DAY = date(2024, 1, 2)


def _bookings(wh, *booking_ids: int) -> None:
    for booking_id in booking_ids:
        put_stg_booking(
            wh, booking_id, user_id=5, apartment_id=1, booking_date=DAY, checkin_date=DAY,
            checkout_date=date(2024, 1, 4),
        )  # fmt: skip


def _tamper(wh, booking_id: int) -> None:
    assert wh.execute(
        "update curated.fact_bookings set total_price = 1 where booking_id = %(b)s",
        {"b": booking_id},
    ) == 1  # fmt: skip


def _fail_in_merge_of(target: str):
    """A kill_point that fails curate inside the merge of ``target``, before its commit."""
    merges = iter(merge_target(path) for path in MERGE_FILES)

    def kill_point(point: str) -> None:
        if point == "in_merge" and next(merges) == target:
            raise RuntimeError("killed before the commit")

    return kill_point


def _prices(wh) -> list[tuple]:
    return rows(wh, "select booking_id, total_price from curated.fact_bookings order by 1")


def test_each_merge_records_the_batches_it_merged_once(warehouse):
    put_stg_apartment(warehouse, 1)
    put_stg_attributes(warehouse, 1)
    _bookings(warehouse, 10)
    put_stg_view(warehouse, user_id=5, apartment_id=1, viewed_at=datetime(2024, 1, 1))
    put_stg_vehicle(warehouse, "v1", vehicle_type="sedan")
    run_merges(warehouse)

    ledger = rows(warehouse, LEDGER)
    assert {(target, source) for target, source, _ in ledger} == {
        ("dim_listings", "apartments"),
        ("dim_listings", "apartment_attributes"),
        ("fact_bookings", "bookings"),
        ("fact_user_views", "user_viewing"),
        ("dim_vehicles", "vehicles"),
    }
    loaded = dict(rows(warehouse, "select source_table, batch_id from raw_data.load_batches"))
    assert all(batch == loaded[source] for _, source, batch in ledger)

    run_merges(warehouse)  # nothing pending: nothing recorded twice
    assert rows(warehouse, LEDGER) == ledger


def test_a_merge_compares_only_the_keys_of_batches_it_has_not_merged(warehouse):
    _bookings(warehouse, 10, 11)
    run_merges(warehouse)
    _tamper(warehouse, 10)
    _tamper(warehouse, 11)

    _bookings(warehouse, 11)  # a new batch holding booking 11 (unchanged)
    run_merges(warehouse)

    # 11 was compared and put back; 10 was in no pending batch: not compared.
    assert _prices(warehouse) == [(10, 1), (11, 100)]


def test_a_pending_full_refresh_makes_the_merge_compare_every_key(warehouse):
    _bookings(warehouse, 10, 11)
    run_merges(warehouse)
    _tamper(warehouse, 10)

    record_batch(warehouse, "stg_bookings", full_refresh=True)
    run_merges(warehouse)

    assert _prices(warehouse) == [(10, 100), (11, 100)]


def test_deleting_a_targets_ledger_rows_makes_its_next_merge_compare_every_key(warehouse):
    # The documented way to have curate compare a whole table again (docs/operations.md).
    _bookings(warehouse, 10, 11)
    run_merges(warehouse)
    _tamper(warehouse, 10)

    warehouse.execute("delete from raw_data.curated_batches where target_table = 'fact_bookings'")
    run_merges(warehouse)

    assert _prices(warehouse) == [(10, 100), (11, 100)]


def test_a_booking_changed_in_a_later_batch_leaves_the_fact_when_it_stops_qualifying(warehouse):
    _bookings(warehouse, 10, 11)
    run_merges(warehouse)

    put_stg_booking(
        warehouse, 11, user_id=5, apartment_id=1, booking_date=DAY, checkin_date=DAY,
        checkout_date=date(2024, 1, 4), booking_status="cancelled",
    )  # fmt: skip
    run_merges(warehouse)

    assert _prices(warehouse) == [(10, 100)]


def test_attributes_arriving_alone_update_their_listing(warehouse):
    # dim_listings reads two stg tables: a batch of either brings its keys into the compare.
    put_stg_apartment(warehouse, 1)
    run_merges(warehouse)
    assert rows(warehouse, "select cityname from curated.dim_listings") == [(None,)]

    put_stg_attributes(warehouse, 1, cityname="Austin")
    run_merges(warehouse)

    assert rows(warehouse, "select cityname from curated.dim_listings") == [("Austin",)]


@pytest.mark.parametrize("target", SCOPED)
def test_curate_rolls_a_merge_and_its_ledger_rows_back_together(warehouse, target, monkeypatch):
    # A merge that fails after its changes leaves no ledger row: the next run compares again.
    put_stg_apartment(warehouse, 1)
    put_stg_attributes(warehouse, 1)
    _bookings(warehouse, 10)
    put_stg_view(warehouse, user_id=5, apartment_id=1, viewed_at=datetime(2024, 1, 1))
    put_stg_vehicle(warehouse, "v1", vehicle_type="sedan")
    monkeypatch.setattr("rental_analytics.jobs.curate.kill_point", _fail_in_merge_of(target))
    with pytest.raises(RuntimeError, match="killed"):
        run_curate(warehouse)
    recorded = {t for t, _, _ in rows(warehouse, LEDGER)}
    assert target not in recorded
    assert rows(warehouse, f"select count(*) from curated.{target}") == [(0,)]  # noqa: S608

    monkeypatch.undo()
    run_curate(warehouse)
    assert rows(warehouse, f"select count(*) from curated.{target}") == [(1,)]  # noqa: S608
    assert target in {t for t, _, _ in rows(warehouse, LEDGER)}
