"""Tables side by side in a job (jobs/concurrent.py): results in order, failures stop the rest."""

from __future__ import annotations

import threading
import time
from contextlib import closing

import pytest

from rental_analytics.config import ConfigError, DatabaseSettings, Settings
from rental_analytics.jobs.concurrent import in_order


def _task(value, seconds=0.0, log=None, fail=False):
    def run():
        if log is not None:
            log.append(("start", value, threading.current_thread().name))
        time.sleep(seconds)
        if fail:
            raise ValueError(f"task {value} failed")
        if log is not None:
            log.append(("end", value, threading.current_thread().name))
        return value

    return run


def test_results_come_in_task_order_whatever_finishes_first():
    log = []
    tasks = [_task(1, 0.3, log), _task(2, 0.0, log), _task(3, 0.1, log)]
    assert list(in_order(tasks, 2, "t")) == [1, 2, 3]
    ends = [value for kind, value, _ in log if kind == "end"]
    assert ends.index(2) < ends.index(1)  # 2 ran beside 1 and finished first


def test_at_most_at_once_tasks_run_together():
    running, peak, lock = [0], [0], threading.Lock()

    def task():
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(0.05)
        with lock:
            running[0] -= 1
        return True

    assert all(in_order([task] * 8, 3, "t"))
    assert peak[0] == 3


def test_one_at_a_time_runs_on_the_callers_thread():
    log = []
    assert list(in_order([_task(1, log=log), _task(2, log=log)], 1, "t")) == [1, 2]
    assert {name for _, _, name in log} == {threading.current_thread().name}


def test_a_failure_raises_at_its_turn_and_cancels_the_tasks_not_started():
    log = []
    tasks = [_task(1, 0.0, log), _task(2, 0.1, log, fail=True)]
    tasks += [_task(n, 0.2, log) for n in range(3, 9)]
    results = in_order(tasks, 2, "t")
    assert next(results) == 1
    with pytest.raises(ValueError, match="task 2 failed"):
        next(results)
    started = {value for kind, value, _ in log if kind == "start"}
    assert started <= {1, 2, 3, 4}  # at most the ones already running when 2 failed
    assert len(started) < 8
    # Whatever started has finished: nothing is left running behind the caller's back.
    assert {value for kind, value, _ in log if kind == "end"} == started - {2}


def test_closing_early_cancels_the_rest_and_waits_for_the_running_ones():
    log = []
    tasks = [_task(n, 0.1, log) for n in range(1, 9)]
    with closing(in_order(tasks, 2, "t")) as results:
        assert next(results) == 1
    started = {value for kind, value, _ in log if kind == "start"}
    assert len(started) < 8
    assert {value for kind, value, _ in log if kind == "end"} == started


def test_tables_at_once_must_be_at_least_one():
    db = DatabaseSettings("127.0.0.1", 3306, "u", "p", "d")
    with pytest.raises(ConfigError, match="tables_at_once 0"):
        Settings(None, "lake", "landing", "bookmarks", "", db, db, tables_at_once=0)
