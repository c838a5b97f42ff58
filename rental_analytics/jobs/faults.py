"""Fault injection into job runs: failing at start, and kill points to prove crash safety.

The local emulator asks a job run to fail (from ``RENTALS_FAIL_JOBS``) through its
environment. With ``RENTALS_INJECTED_FAULT`` set the run raises ``InjectedFault`` as it
starts, so that retries and alerts can be watched. With ``RENTALS_KILL_AT`` (from
``RENTALS_FAIL_JOBS=job@point``) it is killed by SIGKILL: at a named point its code
reaches, or a number of seconds after it started ("2.5s"), wherever it then is. Dying by
SIGKILL runs no cleanup, no ``finally`` and no transaction rollback of our own, exactly as
``kill -9`` would.
"""

from __future__ import annotations

import logging
import os
import re
import signal
import threading

log = logging.getLogger("rental_analytics")

# Set by the local emulator when a test or a demo asked this job run to fail (RENTALS_FAIL_JOBS).
INJECTED_FAULT_ENV = "RENTALS_INJECTED_FAULT"

# Set by the local emulator when this job run must die by SIGKILL: at a named kill point
# reached by the job's code, or after a number of seconds ("2.5s"), wherever it then is.
KILL_AT_ENV = "RENTALS_KILL_AT"
_AFTER_SECONDS = re.compile(r"^([0-9]+(?:\.[0-9]+)?)s$")

# The points where a job can be told to die, in the order a run reaches them. Each one
# is a moment the job's output is half written: crash safety is proved by dying there.
KILL_POINTS: dict[str, tuple[str, ...]] = {
    # a table's raw Parquet written / all written, bookmarks not saved / bookmarks saved
    "extract": ("table_written", "before_commit", "after_commit"),
    # a batch's prepared Parquet written / merged inside its open transaction / committed
    "load_raw": ("batch_staged", "batch_merged", "batch_loaded"),
    # inside a merge file's open transaction / first merge committed / merges done
    "curate": ("in_merge", "merge_done", "before_views"),
}


class InjectedFault(RuntimeError):
    """The job run was told to fail, so that retries and alerts can be watched."""


def fail_if_told() -> None:
    """Raise InjectedFault when this run was told to fail as it starts (RENTALS_INJECTED_FAULT)."""
    if os.environ.get(INJECTED_FAULT_ENV):
        raise InjectedFault(os.environ[INJECTED_FAULT_ENV])


def is_kill_delay(point: str) -> bool:
    return bool(_AFTER_SECONDS.match(point))


def _die(why: str) -> None:
    log.warning("killed by injected fault: %s (SIGKILL)", why)
    for handler in logging.getLogger().handlers:
        handler.flush()
    os.kill(os.getpid(), signal.SIGKILL)


def kill_point(name: str) -> None:
    """Die here, as ``kill -9`` would, when this job run was told to (RENTALS_KILL_AT)."""
    if os.environ.get(KILL_AT_ENV) == name:
        _die(f"kill point {name}")


def arm_kill_timer() -> None:
    match = _AFTER_SECONDS.match(os.environ.get(KILL_AT_ENV, ""))
    if match:
        delay = float(match.group(1))
        timer = threading.Timer(delay, _die, args=(f"{delay:g} s after start",))
        timer.daemon = True
        timer.start()
