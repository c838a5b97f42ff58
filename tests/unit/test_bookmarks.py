import json
from datetime import date, datetime

import pytest

from rental_analytics.sources.bookmarks import BookmarkError, BookmarkStore, TableBatch
from rental_analytics.sources.extract import (
    bookmark_aggregates,
    bookmark_metric,
    observed_bookmark,
)
from rental_analytics.sources.tables import APARTMENTS, BOOKINGS, USER_VIEWING
from rental_analytics.transforms.common import spark_schema

D = date(2024, 5, 1)


def commit(store, table, key, run_date=D):
    state = store.load()
    batch_id = state.next_batch_id(run_date)
    written = {table: TableBatch(table, f"/lake/{batch_id}", 3)}
    store.commit(state, batch_id, run_date, written, {table: {"keys": ["id"], "last_key": [key]}})
    return batch_id


def test_batch_ids_are_deterministic_and_count_only_committed(tmp_path):
    store = BookmarkStore(tmp_path, "apartments")
    assert store.load().next_batch_id(D) == "2024-05-01-01"
    # an uncommitted attempt does not move the id: its rerun overwrites the same batch
    assert store.load().next_batch_id(D) == "2024-05-01-01"
    assert commit(store, "apartments", 10) == "2024-05-01-01"
    assert store.load().next_batch_id(D) == "2024-05-01-02"
    assert store.load().next_batch_id(date(2024, 5, 2)) == "2024-05-02-01"


def test_commit_is_atomic_replace(tmp_path):
    store = BookmarkStore(tmp_path, "apartments")
    commit(store, "apartments", 10)
    doc = json.loads(store.path.read_text())
    assert doc["tables"]["apartments"]["last_key"] == [10]
    assert not list(tmp_path.glob(".apartments.*.tmp"))


def test_reset_and_rewind(tmp_path):
    store = BookmarkStore(tmp_path, "apartments")
    first = commit(store, "apartments", 10)
    commit(store, "apartments", 20)
    commit(store, "bookings", 7)
    assert store.rewind(first).tables == {"apartments": {"keys": ["id"], "last_key": [10]}}
    assert len(store.load().batches) == 3  # history stays
    store.reset("apartments")
    assert "apartments" not in store.load().tables
    with pytest.raises(BookmarkError, match="no committed batch"):
        store.rewind("1999-01-01-01")


def test_unreadable_state_is_a_clear_error(tmp_path):
    store = BookmarkStore(tmp_path, "apartments")
    store.path.write_text("{not json")
    with pytest.raises(BookmarkError, match="unreadable"):
        store.load()


# -- the bookmark aggregates a write observes -------------------------------------------


def _rows_of(spec, values):
    """Rows of ``spec``'s columns: ``values`` by column name, every other column NULL."""
    return [tuple(v.get(c) for c in spec.column_names) for v in values]


@pytest.mark.parametrize("spec", [APARTMENTS, BOOKINGS, USER_VIEWING], ids=lambda s: s.name)
def test_observed_bookmarks_equal_the_collected_aggregates(spark, spec):
    """The extract observes the bookmark aggregates as JSON text while it writes a batch;
    read back, they are the values (and Python types) a collected row of the same
    aggregates has: fractions of a second included, and None for an empty batch."""
    values = [
        {
            "id": 7,
            "booking_id": 7,
            "booking_date": date(2024, 3, 1),
            "last_modified_timestamp": datetime(2024, 3, 1, 10, 0, 0, 250_000),
            "viewed_at": datetime(2024, 3, 2, 23, 59, 59, 999_999),
        },
        {
            "id": 12,
            "booking_id": 12,
            "booking_date": date(2024, 2, 28),
            "last_modified_timestamp": datetime(2024, 2, 1, 8, 30),
            "viewed_at": datetime(2024, 3, 1),
        },
    ]
    for rows in (_rows_of(spec, values), []):
        df = spark.createDataFrame(rows, spark_schema(spec))
        expected = df.agg(*bookmark_aggregates(spec)).first().asDict()
        expected["last_key"] = None if expected["last_key"] is None else list(expected["last_key"])
        observed = observed_bookmark(spec, df.agg(bookmark_metric(spec)).first()[0])
        assert observed == expected
        assert (observed["last_key"] is None) == (not rows)
