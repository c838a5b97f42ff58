"""One run per home: a held lock refuses at once, a killed holder's lock is found stale."""

from __future__ import annotations

import json

import pytest

from rental_analytics.local.run_lock import LockHolder, RunLock, RunLockedError


def test_a_held_lock_refuses_a_second_run_naming_the_first(tmp_path):
    first = RunLock(tmp_path).acquire(started_at="2026-11-23T10:00:00+00:00")
    first.record("2026-11-23_run", "arn:aws:states:...:execution:x:2026-11-23_run")
    with pytest.raises(RunLockedError, match="run 2026-11-23_run .* one run at a time"):
        RunLock(tmp_path).acquire(started_at="2026-11-23T10:01:00+00:00")
    first.release()
    second = RunLock(tmp_path).acquire(started_at="2026-11-23T10:02:00+00:00")
    assert second.stale is None  # released cleanly: nothing stale
    second.release()


def test_a_lock_left_by_a_killed_run_is_stale_and_taken(tmp_path):
    # What a run killed with -9 leaves: the file filled, the flock gone with the process.
    holder = LockHolder(pid=999_999, run_id="killed", execution_arn="arn:x", started_at="t")
    (tmp_path / "run.lock").write_text(json.dumps(holder.__dict__))
    with RunLock(tmp_path).acquire(started_at="now") as lock:
        assert lock.stale == holder
        assert json.loads((tmp_path / "run.lock").read_text())["run_id"] == ""
    assert (tmp_path / "run.lock").read_text() == ""
