"""One workflow run at a time per home (Glue's MaxConcurrentRuns 1, for the whole workflow).

The lock is ``$RENTALS_HOME/run.lock``, held with ``flock`` for the life of ``rentals run``:
the kernel releases it when that process ends, however it ends. The file also says who
holds it (pid, run id, execution ARN), so a second run can say what it waits for, and a
run that finds the file filled but unlocked knows its holder was killed: that stale lock
is reported and cleared, and the killed run's execution, which may still be running in
the emulator, is handed to the caller to stop.
"""

from __future__ import annotations

import fcntl
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path


class RunLockedError(RuntimeError):
    """Another run holds this home's lock; the message names it."""


@dataclass
class LockHolder:
    pid: int
    run_id: str = ""
    execution_arn: str = ""
    started_at: str = ""


class RunLock:
    def __init__(self, home: Path):
        self.path = home / "run.lock"
        self._fd: int | None = None
        self.stale: LockHolder | None = None  # what a killed run left, found on acquire

    def _read(self) -> LockHolder | None:
        text = os.pread(self._fd, 4096, 0).decode(errors="replace").strip()
        if not text:
            return None
        try:
            return LockHolder(**json.loads(text))
        except (ValueError, TypeError):
            return LockHolder(pid=0)  # unreadable: a killed writer; stale all the same

    def _write(self, holder: LockHolder | None) -> None:
        data = json.dumps(asdict(holder)).encode() if holder else b""
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, data, 0)
        os.fsync(self._fd)

    def acquire(self, started_at: str) -> RunLock:
        """Take the lock or raise RunLockedError at once; ``self.stale`` tells of a killed run."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = self._read()
            os.close(self._fd)
            self._fd = None
            who = (
                f"run {holder.run_id or '(starting)'} (pid {holder.pid}, started {holder.started_at})"
                if holder
                else "another run"
            )
            raise RunLockedError(
                f"{who} is running in this home ({self.path.parent}): one run at a time. "
                "Wait for it to finish, or stop it with Ctrl-C."
            ) from None
        self.stale = self._read()
        self._write(LockHolder(pid=os.getpid(), started_at=started_at))
        return self

    def record(self, run_id: str, execution_arn: str) -> None:
        """Note the execution this run started, for a run that may find this lock stale."""
        holder = self._read() or LockHolder(pid=os.getpid())
        holder.run_id, holder.execution_arn = run_id, execution_arn
        self._write(holder)

    def release(self) -> None:
        if self._fd is None:
            return
        self._write(None)
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)
        self._fd = None

    def __enter__(self) -> RunLock:
        return self

    def __exit__(self, *exc) -> None:
        self.release()
