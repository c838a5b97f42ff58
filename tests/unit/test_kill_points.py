"""Kill points die as kill -9 does, only where and when they were told to."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

SCRIPT = """
from rental_analytics.jobs.faults import arm_kill_timer, kill_point
import time
arm_kill_timer()
kill_point("first")
print("past first", flush=True)
kill_point("second")
print("past second", flush=True)
time.sleep(float({sleep!r}))
print("woke up", flush=True)
"""


def _run(kill_at: str | None, sleep: float = 0.0) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "RENTALS_KILL_AT"}
    if kill_at is not None:
        env["RENTALS_KILL_AT"] = kill_at
    return subprocess.run(
        [sys.executable, "-c", SCRIPT.format(sleep=sleep)],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def test_no_kill_without_the_variable_or_at_another_point():
    assert _run(None).stdout.split("\n")[:3] == ["past first", "past second", "woke up"]
    assert _run("elsewhere").returncode == 0


def test_dies_by_sigkill_at_its_point_and_nowhere_before():
    proc = _run("second")
    assert proc.returncode == -signal.SIGKILL
    assert proc.stdout == "past first\n"
    assert "killed by injected fault: kill point second" in proc.stderr


def test_dies_after_a_delay_wherever_it_is():
    started = time.monotonic()
    proc = _run("0.5s", sleep=30)
    assert proc.returncode == -signal.SIGKILL
    assert "woke up" not in proc.stdout
    assert time.monotonic() - started < 20


def test_every_declared_kill_point_is_placed_in_the_code():
    """A point named in KILL_POINTS but reached nowhere would make a crash test pass by
    never killing anything."""
    import re
    from pathlib import Path

    from rental_analytics.jobs.faults import KILL_POINTS

    package = Path(__file__).resolve().parents[2] / "rental_analytics"
    placed = {
        name
        for path in package.rglob("*.py")
        for name in re.findall(r"""kill_point\(["']([a-z_]+)["']\)""", path.read_text())
    }
    declared = {point for points in KILL_POINTS.values() for point in points}
    assert declared == placed
