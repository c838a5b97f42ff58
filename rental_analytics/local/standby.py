"""Local job processes started before their job: Python, the JVM and a SparkSession, warm.

Locally each Glue job run is a process of the job's script (``emulator.LocalJobRunner``).
Before its first row such a process spends some 3 s on the same work every time: importing
PySpark and the job's modules (0.3 s), starting the JVM and the SparkSession (1.5 s), and
Spark's first action, which loads and compiles its query machinery (1.3 s). Then load_raw
stages its first tables slowly, while Spark generates and compiles each step's code and the
JVM compiles Spark's analyser and optimiser: the eight tables of a small batch took 8.4 s
(one after another) in a fresh session, 5 to 6 s in one that had staged them before.
Measured on this 2-core machine, warm disk. A run has three stages in a row (the extracts
side by side, load_raw, curate), so a run at the default scale spent a third of its time
there, and the test suite, which runs a few hundred jobs, much of its time.

A standby process does that work before its job exists, at a lower CPU priority (it takes
the cores' idle moments, not a running job's), then waits for one job: the script and the
arguments the runner would have started ``python <script> ...`` with. One standby of a pool
also rehearses load_raw (``load_raw.rehearse_every_table``: a tiny batch of each table,
staged in a scratch folder; some 25 s of CPU, so not every standby does it) and is given to
load_raw's job run first; one for curate, which needs no Spark, only imports (0.45 s of its
run, boto3 and PySpark's modules among them). A standby runs the script as ``__main__``, as
that command would: the job's code is the same, and in it ``runtime.job_spark`` finds the
session already there, as a Glue job finds the session that the Glue runtime started before
its script. One standby serves one job run and ends with it: a job that is killed or
stopped takes its JVM with it, as before, and every job run still has a process of its own.

A standby serves only a job run whose environment (without the fault a run injects, which is
given with the job) and working directory are those it started with: the JVM's options and
the settings come from them. The runner keeps ``RENTALS_STANDBY_JOBS`` of them (4: a run's
jobs, the two extracts side by side, load_raw and curate; 0 turns standbys off), for job
runs like the last one it started, and starts them only once no job has run for a second:
warming a standby while a job runs would take the job's cores, even at a lower priority (a
run whose jobs each started one for the next took 15 s where cold processes took 13). So
the first run of an emulator starts its jobs cold, and later runs find them warm. With one
exception: when a job run that ran side by side with another (a branch of a parallel
state: the two extracts) ends while the other still runs, its core is idle until the
other ends too, and the runner starts one standby for any Spark job then; the state after
the parallel one (load_raw) is given it. At scale 1 the apartments extract ends some 3-4 s
after the vehicle rentals one: a first run with it took 36.9 and 36.2 s (load_raw 18.1 and
18.3 s, in a standby that had 4.4 s to warm), and 41.7 s without it (load_raw 23.2 s;
three runs of `scripts/bench.py --scale 1 --pipeline`, one after another). The extract
still running gives some of it back: it took 12.2-14.1 s beside the warming standby in
five runs, 10.9-12.6 s without one in five runs the same hour and the one before.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import signal
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from rental_analytics.local.processes import signal_group, wait_or_kill_group

STANDBY_JOBS_ENV = "RENTALS_STANDBY_JOBS"
DEFAULT_STANDBY_JOBS = 4  # a run's jobs: the two extracts side by side, load_raw, curate
NICENESS = 10  # while warming: added to the standby's own
# What the standbys of a pool of n are prepared for, the first n of these: load_raw's
# (its SparkSession, and a tiny batch of each table staged: load_raw.rehearse_every_table),
# any Spark job's (its SparkSession and a first action: None), curate's (the imports: it
# needs no Spark), then any Spark job's again. A standby goes to a job run of the script it
# was prepared for first, then to any Spark job's, then to any.
REHEARSED_SCRIPT = "load_raw.py"
PYTHON_ONLY_SCRIPT = "curate.py"
_PREPARED_FOR = (REHEARSED_SCRIPT, None, None, PYTHON_ONLY_SCRIPT)
# A standby no job run took in this time ends; the runner gives job runs to younger ones.
IDLE_LIMIT_S = 1800.0
_TAKE_MARGIN_S = 120.0


def standby_jobs(env: dict[str, str]) -> int:
    """How many standbys to keep for job runs with this environment."""
    value = env.get(STANDBY_JOBS_ENV, str(DEFAULT_STANDBY_JOBS))
    try:
        count = int(value)
    except ValueError:
        raise ValueError(f"{STANDBY_JOBS_ENV} must be a whole number, not {value!r}") from None
    if count < 0:
        raise ValueError(f"{STANDBY_JOBS_ENV} must be 0 or more, not {count}")
    return count


# -- the runner's side --------------------------------------------------------------------
@dataclass
class Standby:
    process: subprocess.Popen
    log_path: Path
    env: dict[str, str]
    cwd: str
    started: float
    prepared_for: str | None  # the script name it was prepared for (None: any Spark job)

    def usable(self, env: dict[str, str], cwd: str) -> bool:
        return (
            self.process.poll() is None
            and self.env == env
            and self.cwd == cwd
            and time.monotonic() - self.started < IDLE_LIMIT_S - _TAKE_MARGIN_S
        )


class StandbyPool:
    """The standbys of one emulator, each waiting for one job run."""

    def __init__(self, folder: Path):
        self.folder = folder
        self._lock = threading.Lock()
        self._idle: list[Standby] = []
        # Logs of standbys an earlier emulator left behind (it was killed): nobody reads them.
        if folder.is_dir():
            for stale in folder.glob("standby-*.log"):
                stale.unlink(missing_ok=True)

    def take(self, env: dict[str, str], cwd: str, script: str) -> Standby | None:
        """A waiting standby started with ``env`` in ``cwd`` for a job run of ``script``, no
        longer in the pool; or None. The one prepared for the script if there is one, else
        one prepared for any Spark job, else any. Standbys for another environment are
        ended: this run has no use for them."""
        name = os.path.basename(script)
        with self._lock:
            self._keep_only(env, cwd)
            if not self._idle:
                return None
            chosen = min(
                self._idle, key=lambda s: (s.prepared_for != name, s.prepared_for is not None)
            )
            self._idle.remove(chosen)
            return chosen

    def waiting(self) -> int:
        """How many standbys wait for a job run."""
        with self._lock:
            return sum(1 for s in self._idle if s.process.poll() is None)

    def add_one(self, env: dict[str, str], cwd: str) -> bool:
        """Start one standby for any Spark job run with ``env`` in ``cwd``, unless one such
        standby already waits; whether one was started."""
        with self._lock:
            self._keep_only(env, cwd)
            if self._idle:
                return False
            self._idle.append(self._start(env, cwd, None))
            return True

    def fill(self, env: dict[str, str], cwd: str, size: int) -> None:
        """Keep ``size`` standbys for job runs with ``env`` in ``cwd``; end any other."""
        with self._lock:
            self._keep_only(env, cwd, size)
            missing = list(_PREPARED_FOR[:size])
            for standby in self._idle:
                if standby.prepared_for in missing:
                    missing.remove(standby.prepared_for)
            while len(self._idle) < size:
                self._idle.append(self._start(env, cwd, missing.pop(0) if missing else None))

    def _keep_only(self, env: dict[str, str], cwd: str, size: int | None = None) -> None:
        """End the standbys that cannot serve ``env`` in ``cwd``, and those beyond ``size``."""
        keep = [s for s in self._idle if s.usable(env, cwd)][:size]
        for standby in self._idle:
            if standby not in keep:
                _end(standby)
        self._idle = keep

    def stop_all(self) -> None:
        with self._lock:
            for standby in self._idle:
                _end(standby, signal.SIGTERM)
            self._idle = []

    def _start(self, env: dict[str, str], cwd: str, prepared_for: str | None) -> Standby:
        self.folder.mkdir(parents=True, exist_ok=True)
        log_path = self.folder / f"standby-{uuid.uuid4().hex}.log"
        with open(log_path, "wb") as log_fh:
            # Its own session, as a job's: stopping the job run also stops Spark's JVM.
            process = subprocess.Popen(
                [sys.executable, "-m", "rental_analytics.local.standby", *filter(None, [prepared_for])],
                stdin=subprocess.PIPE, stdout=log_fh, stderr=subprocess.STDOUT,
                env=env, cwd=cwd, start_new_session=True,
            )  # fmt: skip
        return Standby(process, log_path, dict(env), cwd, time.monotonic(), prepared_for)


def give(standby: Standby, argv: list[str], fault_env: dict[str, str], log_path: Path) -> bool:
    """Hand a job run to ``standby``: its log becomes the job's log, then the standby runs
    ``argv`` (the script and its arguments) with ``fault_env`` added to its environment.
    False when the standby has gone (the caller starts the job as a process of its own)."""
    job = {"argv": argv, "env": fault_env, "given_at": time.time()}
    try:
        os.replace(standby.log_path, log_path)
        standby.process.stdin.write(json.dumps(job).encode() + b"\n")
        standby.process.stdin.close()
    except OSError:  # it died while waiting, or its log was deleted
        _end(standby, signal.SIGKILL)
        return False
    return True


def _end(standby: Standby, sig: signal.Signals | None = None) -> None:
    """End a standby nobody will take: closing its input ends it after it stops Spark;
    ``sig`` is sent to its process group too (when the emulator itself stops)."""
    with contextlib.suppress(OSError):
        standby.process.stdin.close()
    if sig is not None:
        signal_group(standby.process, sig)
    threading.Thread(target=_reap, args=(standby,), daemon=True).start()


def _reap(standby: Standby) -> None:
    wait_or_kill_group(standby.process, 60)
    standby.log_path.unlink(missing_ok=True)


# -- the standby process -------------------------------------------------------------------
def _may_lower_niceness_back(niceness: int) -> bool:
    """Whether this process may return from ``niceness + NICENESS`` to ``niceness``: root
    may, others as far as their RLIMIT_NICE allows (setpriority(2))."""
    if os.geteuid() == 0:
        return True
    soft, _ = resource.getrlimit(resource.RLIMIT_NICE)
    return soft == resource.RLIM_INFINITY or 20 - soft <= niceness


def _descendants(pid: int) -> list[int]:
    """The processes started under ``pid`` (the JVM), read from /proc."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _set_niceness(niceness: int) -> None:
    """Every thread of this process and of its descendants at ``niceness`` (Linux keeps a
    niceness per thread; a new thread takes its creator's)."""
    for pid in (os.getpid(), *_descendants(os.getpid())):
        for task in Path(f"/proc/{pid}/task").glob("*"):
            with contextlib.suppress(OSError, ValueError):
                os.setpriority(os.PRIO_PROCESS, int(task.name), niceness)


def _warm(given: threading.Event, prepared_for: str | None) -> str:
    """Everything a job does before its first row, unless a job is given first: the imports,
    and but for PYTHON_ONLY_SCRIPT the session the job's ``job_spark`` will find and Spark's
    first action, for REHEARSED_SCRIPT load_raw's staging of each table. What was done, for
    the log."""
    from rental_analytics.config import Settings
    from rental_analytics.jobs import curate, extract, load_raw, runtime  # noqa: F401

    runtime.aws_sdk_versions()  # every job logs them
    if given.is_set() or prepared_for == PYTHON_ONLY_SCRIPT:
        return "imports"
    settings = Settings.local(identity="job")
    spark = runtime.job_spark("rentals-job", settings)
    if given.is_set():
        return "imports, SparkSession"
    import tempfile

    with tempfile.TemporaryDirectory(prefix="rentals-standby-") as folder:
        if prepared_for == REHEARSED_SCRIPT:
            # What the local warehouse's COPY imports on first use (0.4 s of the first table's
            # load, in the job; warehouse/postgres.py).
            import pyarrow.csv  # noqa: F401
            import pyarrow.dataset  # noqa: F401

            load_raw.rehearse_every_table(spark, settings, folder, given.is_set)
            return "imports, SparkSession, load_raw staging a tiny batch of each table"
        # A small Parquet round trip: code generation, the Parquet writer and reader.
        frame = spark.range(64).selectExpr("id", "sha2(cast(id as string), 256) as h")
        frame.write.parquet(f"{folder}/t")
        spark.read.parquet(f"{folder}/t").where("id % 2 = 0").count()
    return "imports, SparkSession, a first action"


_stopped_by: list[int] = []  # the signal that stopped this standby, once handled


def _exit_on_signal(signum: int, _frame: object) -> None:
    _stopped_by.append(signum)
    raise SystemExit(128 + signum)


def _exit_if_stopped() -> None:
    """Exit as the signal handler did, if it ran: Python ignores an exception raised where
    it calls code for itself, such as the finalizers py4j runs on garbage collection (the
    exit printed, not raised), and Spark's JVM, signalled too, is gone by then: warming
    failed with a py4j error instead, and the standby ended with status 0."""
    if _stopped_by:
        raise SystemExit(128 + _stopped_by[0])


def main() -> None:
    started = time.time()
    niceness = os.getpriority(os.PRIO_PROCESS, 0)
    lowered = _may_lower_niceness_back(niceness)
    if lowered:
        _set_niceness(niceness + NICENESS)
    from rental_analytics.jobs.runtime import configure_logging

    configure_logging()  # as the job's run_job does first: later calls change nothing
    log = __import__("logging").getLogger("rental_analytics")
    job: dict = {}
    given = threading.Event()

    def wait_for_job() -> None:
        line = sys.stdin.readline()
        if line:
            job.update(json.loads(line))
            if lowered:
                _set_niceness(niceness)
        given.set()

    threading.Thread(target=wait_for_job, daemon=True).start()
    # Stopped while it waits (SIGTERM to its group, as the emulator stops), it leaves no
    # scratch folder behind: the exit unwinds its `with` blocks. A job it runs is stopped as
    # a process of its own would be (SIGTERM's default action).
    signal.signal(signal.SIGTERM, _exit_on_signal)
    try:
        done = _warm(given, sys.argv[1] if len(sys.argv) > 1 else None)
    except Exception as exc:  # noqa: BLE001 - the job does it again itself, and says why
        done = f"nothing: warming failed ({type(exc).__name__}: {exc})"
    _exit_if_stopped()
    log.info("standby process: warmed (%s) in %.1f s", done, time.time() - started)
    if not given.wait(IDLE_LIMIT_S) or not job:
        _exit_if_stopped()
        return  # not taken, or ended by the runner; the interpreter's exit stops Spark
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if lowered:
        _set_niceness(niceness)  # threads started since the job was given, too
    os.environ.update(job["env"])
    sys.argv = list(job["argv"])
    # What `python <script>` puts first on the module path: the script's own folder.
    sys.path[0] = os.path.dirname(os.path.realpath(sys.argv[0]))
    log.info(
        "standby process: started %.1f s before this job run, which waited %.1f s for it",
        job["given_at"] - started, time.time() - job["given_at"],
    )  # fmt: skip
    import runpy

    runpy.run_path(sys.argv[0], run_name="__main__")


if __name__ == "__main__":
    main()
