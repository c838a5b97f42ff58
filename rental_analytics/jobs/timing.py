"""Seconds per step of a job, kept in its metrics so the next person need not profile."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager


class StepSeconds(dict[str, float]):
    """step name -> seconds spent in it (a step timed twice adds up), rounded to ms."""

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self[name] = round(self.get(name, 0.0) + time.perf_counter() - started, 3)
