import json
from datetime import date

import pytest

from rental_analytics.sources.bookmarks import BookmarkError, BookmarkStore, TableBatch

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
