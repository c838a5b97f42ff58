"""Tables worked on side by side inside one job run.

A job's Spark work per table is short and mostly latency: planning, scheduling a handful of
tasks, committing files. One table at a time leaves the cores idle between its actions, so
a job runs the tables' Spark work on a few threads (one SparkSession serves them all: Spark
schedules the jobs of several threads together) and consumes the results in table order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")


def in_order(tasks: Iterable[Callable[[], T]], at_once: int, name: str) -> Iterator[T]:
    """Run ``tasks`` on at most ``at_once`` threads; yield their results in task order.

    The first task that fails raises from here when its turn comes, and the tasks not yet
    started are cancelled; so are they when the caller closes the iterator early
    (``contextlib.closing``, on an error of its own while handling a result). Running tasks
    are waited for, never abandoned half-way.
    With ``at_once`` 1 the tasks run one after another on the caller's thread."""
    if at_once <= 1:
        for task in tasks:
            yield task()
        return
    pool = ThreadPoolExecutor(max_workers=at_once, thread_name_prefix=name)
    try:
        futures: list[Future[T]] = [pool.submit(task) for task in tasks]
        for future in futures:
            yield future.result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
