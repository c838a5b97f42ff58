"""Processes the local stack starts in the background, found again through pid files."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from pathlib import Path


def pid_alive(pid_file: Path) -> int | None:
    """The pid in ``pid_file`` if that process runs, else None."""
    try:
        # postmaster.pid holds the pid on its first line, then more.
        pid = int(pid_file.read_text().split()[0])
        os.kill(pid, 0)
    except (FileNotFoundError, IndexError, ValueError, ProcessLookupError):
        return None
    except PermissionError:
        return pid
    return pid


def _exited(pid: int) -> bool:
    # A child of this process stays a zombie (and answers kill 0) until it is reaped.
    with contextlib.suppress(ChildProcessError):
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def stop_pid(pid_file: Path, timeout_s: float = 30) -> None:
    """SIGTERM the process of ``pid_file``; SIGKILL it if it has not exited in time."""
    pid = pid_alive(pid_file)
    if pid is None:
        return
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if _exited(pid):
            return
        time.sleep(0.1)
    os.kill(pid, signal.SIGKILL)


def signal_group(process: subprocess.Popen, sig: signal.Signals) -> None:
    """Send ``sig`` to the process group that ``process`` leads (started with
    ``start_new_session``): the process and what it started, such as Spark's JVM."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, sig)


def wait_or_kill_group(process: subprocess.Popen, timeout_s: float) -> None:
    """Wait for ``process`` to exit; SIGKILL its group if it has not in ``timeout_s``."""
    try:
        process.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        signal_group(process, signal.SIGKILL)
        process.wait()
