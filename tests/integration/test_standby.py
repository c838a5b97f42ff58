"""Standby job processes (local/standby.py): started ahead, warm, each serving one job run
exactly as a process of the job's script would. Real processes, a real JVM and Spark."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import time
from pathlib import Path

import pytest

from rental_analytics.jobs.faults import KILL_AT_ENV
from rental_analytics.local.emulator import LocalJobRunner
from rental_analytics.local.standby import (
    NICENESS,
    PYTHON_ONLY_SCRIPT,
    REHEARSED_SCRIPT,
    StandbyPool,
    _descendants,
    give,
)
from rental_analytics.runs import CONTEXT_FILE

pytestmark = pytest.mark.integration

# A job script that says what it found: its arguments, its environment, whether a Spark
# session was there before it, and the highest niceness of its threads and its JVM's.
PROBE = """
import json, os, sys, time
from pathlib import Path
from pyspark.sql import SparkSession

def niceness(pid):
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[16])

def tree(pid):
    found = [pid]
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found += tree(int(stat.parent.name))
        except (OSError, ValueError):
            pass
    return found

args = dict(zip(sys.argv[1::2], sys.argv[2::2]))
tasks = [t for p in tree(os.getpid()) for t in Path(f"/proc/{p}/task").glob("*")]
print(json.dumps({
    "argv": sys.argv, "cwd": os.getcwd(), "kill_at": os.environ.get("RENTALS_KILL_AT"),
    "session": SparkSession.getActiveSession() is not None,
    "max_niceness": max(niceness(int(t.name)) for t in tasks if t.exists()),
}), flush=True)
time.sleep(float(args.get("--sleep", "0")))
sys.exit(int(args.get("--exit", "0")))
"""


@pytest.fixture
def home(stack_home, tmp_path) -> Path:
    """A home reaching the test stack's databases, with its own emulator folder."""
    home = tmp_path / "home"
    home.mkdir()
    for name in ("stack.json", "secrets.json"):
        shutil.copy(stack_home / name, home / name)
    return home


@pytest.fixture
def script(tmp_path) -> Path:
    path = tmp_path / "repo" / "glue_jobs" / "probe.py"
    path.parent.mkdir(parents=True)
    path.write_text(PROBE)
    return path


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RENTALS_")}
    return {**env, "RENTALS_HOME": str(home)}


def _probe(log: Path) -> dict:
    lines = [ln for ln in log.read_text().splitlines() if ln.startswith('{"argv"')]
    assert len(lines) == 1, log.read_text()
    return json.loads(lines[0])


def _wait(runner: LocalJobRunner, job_run_id: str, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = runner.state(job_run_id)
        if state["JobRunState"] not in ("RUNNING", "STOPPING"):
            return state
        time.sleep(0.1)
    raise AssertionError(f"{job_run_id} still running after {timeout} s")


def _wait_for_standbys(pool: StandbyPool, count: int, timeout: float = 120) -> None:
    """Until ``count`` standbys wait, each warmed (the line it logs then)."""
    deadline = time.monotonic() + timeout
    while pool.waiting() < count or not all(
        "standby process: warmed (imports" in s.log_path.read_text() for s in pool._idle
    ):
        assert time.monotonic() < deadline, f"{pool.waiting()} standbys, not {count} warm ones"
        time.sleep(0.1)


def test_after_an_idle_moment_job_runs_start_in_warm_standbys(home, script):
    runner = LocalJobRunner(home)
    try:
        runner.launch("probe", f"file://{script}", "jr_cold", {"--exit": "0"})
        assert _wait(runner, "jr_cold")["JobRunState"] == "SUCCEEDED"
        cold = _probe(home / "glue" / "probe" / "jr_cold.log")
        assert not cold["session"]  # a process of its own: nothing started before the script

        _wait_for_standbys(runner._standbys, 4)
        # One rehearsed load_raw: a failure there would only be logged (the job runs anyway).
        logs = sorted(s.log_path.read_text() for s in runner._standbys._idle)
        rehearsed = [log for log in logs if "load_raw staging a tiny batch of each table" in log]
        assert len(rehearsed) == 1, logs
        runner.launch("probe", f"file://{script}", "jr_warm", {"--exit": "0", "--x": "y z"})
        assert _wait(runner, "jr_warm")["JobRunState"] == "SUCCEEDED"
        log = home / "glue" / "probe" / "jr_warm.log"
        warm = _probe(log)
        waited = re.search(r"which waited ([0-9.]+) s for it", log.read_text())
        assert waited and float(waited[1]) < 1.0  # warm before it was given: no start-up
        assert warm["session"]  # the standby's SparkSession, there before the script
        assert warm["argv"] == [str(script), "--JOB_NAME", "probe", "--JOB_RUN_ID", "jr_warm",
                                "--exit", "0", "--x", "y z"]  # fmt: skip
        assert warm["cwd"] == cold["cwd"] == str(script.parent.parent)
        # warmed at a lower priority; the job runs at the emulator's, JVM threads included
        assert warm["max_niceness"] == os.getpriority(os.PRIO_PROCESS, 0)

        runner.launch("probe", f"file://{script}", "jr_fails", {"--exit": "3"})
        state = _wait(runner, "jr_fails")
        assert state["JobRunState"] == "FAILED"
        assert "exit code 3" in state["ErrorMessage"]
    finally:
        runner.stop_all()


def test_a_branch_that_ends_beside_a_running_one_starts_one_standby_for_the_next(home, script):
    """Side by side, the first job run to end frees a core: the runner starts one standby
    then, while the other job still runs, and the next job run (the state after the
    parallel one) is given it. The others wait for a moment when no job runs (the test
    above)."""
    runner = LocalJobRunner(home)
    pool = runner._standbys
    try:
        runner.launch("probe", f"file://{script}", "jr_long", {"--sleep": "600"})
        runner.launch("probe", f"file://{script}", "jr_short", {"--exit": "0"})
        assert _wait(runner, "jr_short")["JobRunState"] == "SUCCEEDED"
        assert runner.is_running("jr_long")
        _wait_for_standbys(pool, 1)
        assert runner.is_running("jr_long")
        time.sleep(1.5)  # longer than the idle moment that would start the others
        assert pool.waiting() == 1  # one only: a job still runs
        assert [s.prepared_for for s in pool._idle] == [None]  # for any Spark job
        runner.launch("probe", f"file://{script}", "jr_next", {"--exit": "0"})
        assert _wait(runner, "jr_next")["JobRunState"] == "SUCCEEDED"
        assert _probe(home / "glue" / "probe" / "jr_next.log")["session"]  # the standby's
    finally:
        runner.stop_all()


def test_no_standby_starts_beside_a_running_job_when_standbys_are_off(home, script):
    run_id = "2026-01-01_off"  # the run's environment, as `rentals run` writes it
    (home / "runs" / run_id).mkdir(parents=True)
    (home / "runs" / run_id / CONTEXT_FILE).write_text(
        json.dumps({"env": {"RENTALS_STANDBY_JOBS": "0"}})
    )
    runner = LocalJobRunner(home)
    try:
        for job_run_id, args in (("jr_long", {"--sleep": "600"}), ("jr_short", {"--exit": "0"})):
            runner.launch("probe", f"file://{script}", job_run_id, {"--run_id": run_id, **args})
        assert _wait(runner, "jr_short")["JobRunState"] == "SUCCEEDED"
        time.sleep(1.0)  # four looks of the runner
        assert runner.is_running("jr_long") and runner._standbys.waiting() == 0
    finally:
        runner.stop_all()


def test_a_stopped_job_run_in_a_standby_takes_its_jvm_with_it(home, script):
    runner = LocalJobRunner(home)
    pool = runner._standbys
    env, cwd = _env(home), str(script.parent.parent)
    try:
        pool.fill(env, cwd, 1)
        standby = pool._idle[0]
        deadline = time.monotonic() + 60
        while not _descendants(standby.process.pid):  # its JVM is starting: given now, it
            assert time.monotonic() < deadline, "no JVM"  # finishes the session first
            time.sleep(0.1)
        assert pool.take(env, cwd, str(script)) is standby
        log = home / "glue" / "probe" / "jr_stop.log"
        log.parent.mkdir(parents=True)
        assert give(standby, [str(script), "--sleep", "600"], {}, log)
        deadline = time.monotonic() + 120
        while '{"argv"' not in (log.read_text() if log.exists() else ""):
            assert time.monotonic() < deadline, "the job did not start"
            time.sleep(0.1)
        assert _probe(log)["session"]  # the job runs beside the standby's JVM
        group = standby.process.pid
        os.killpg(group, signal.SIGTERM)  # what LocalJobRunner.stop sends
        standby.process.wait(timeout=30)
        deadline = time.monotonic() + 30
        while _group_alive(group):  # the JVM, in the standby's process group
            assert time.monotonic() < deadline, "the JVM outlived its job run"
            time.sleep(0.2)
    finally:
        runner.stop_all()


def _group_alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    return True


def test_a_standby_serves_only_its_own_environment_and_carries_the_fault(home, script):
    pool = StandbyPool(home / "emulator" / "standby")
    env, cwd = _env(home), str(script.parent.parent)
    try:
        pool.fill(env, cwd, 1)
        waiting = pool._idle[0]
        stat = Path(f"/proc/{waiting.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        deadline = time.monotonic() + 10  # it lowers its priority as it starts
        while int(stat[16]) != os.getpriority(os.PRIO_PROCESS, 0) + NICENESS:
            assert time.monotonic() < deadline, f"niceness {stat[16]}"
            time.sleep(0.05)
            stat = Path(f"/proc/{waiting.process.pid}/stat").read_text().rsplit(")", 1)[1].split()

        # Another environment (another JVM option, say): no standby, and this one is ended.
        assert pool.take({**env, "RENTALS_JVM_OPTIONS": ""}, cwd, str(script)) is None
        assert waiting.process.wait(timeout=60) == 0
        assert pool.waiting() == 0

        pool.fill(env, cwd, 1)
        standby = pool.take(env, cwd, str(script))
        assert standby is not None
        log = home / "probe.log"
        assert give(standby, [str(script)], {KILL_AT_ENV: "table_written"}, log)
        assert standby.process.wait(timeout=120) == 0
        assert _probe(log)["kill_at"] == "table_written"
        assert "standby process: started" in log.read_text()  # its log became the job's
    finally:
        pool.stop_all()


def test_a_standby_nobody_takes_ends_when_its_input_closes(home, script):
    pool = StandbyPool(home / "emulator" / "standby")
    env, cwd = _env(home), str(script.parent.parent)
    pool.fill(env, cwd, 1)
    standby = pool._idle[0]
    pool.fill(env, cwd, 0)  # ended: its input closed, it stops Spark and exits
    assert standby.process.wait(timeout=60) == 0


def test_standbys_prepared_for_load_raw_and_curate_are_given_to_them_first(home, script):
    pool = StandbyPool(home / "emulator" / "standby")
    env, cwd = _env(home), str(script.parent.parent)
    try:
        pool.fill(env, cwd, 2)
        assert [s.prepared_for for s in pool._idle] == [REHEARSED_SCRIPT, None]
        rehearsing = pool._idle[0]
        assert pool.take(env, cwd, "/repo/glue_jobs/extract.py") is not rehearsing
        assert pool.take(env, cwd, f"/repo/glue_jobs/{REHEARSED_SCRIPT}") is rehearsing

        pool.fill(env, cwd, 4)
        prepared = sorted(str(s.prepared_for) for s in pool._idle)
        assert prepared == ["None", "None", PYTHON_ONLY_SCRIPT, REHEARSED_SCRIPT]
        python_only = pool.take(env, cwd, f"/repo/glue_jobs/{PYTHON_ONLY_SCRIPT}")
        assert python_only.prepared_for == PYTHON_ONLY_SCRIPT
        for _ in range(2):  # the Spark jobs' standbys go to the extracts before load_raw's
            assert pool.take(env, cwd, "/repo/glue_jobs/extract.py").prepared_for is None
        assert pool.take(env, cwd, "/repo/glue_jobs/extract.py").prepared_for == REHEARSED_SCRIPT

        # Prepared for a job without Spark: no JVM, and the job starts its own session.
        log = home / "python_only.log"
        assert give(python_only, [str(script)], {}, log)
        assert python_only.process.wait(timeout=120) == 0
        assert not _probe(log)["session"]
        assert "standby process: warmed (imports)" in log.read_text()
    finally:
        pool.stop_all()


def test_a_standby_stopped_while_it_rehearses_leaves_no_scratch_folder(home, script, tmp_path):
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    pool = StandbyPool(home / "emulator" / "standby")
    env, cwd = {**_env(home), "TMPDIR": str(scratch)}, str(script.parent.parent)
    try:
        pool.fill(env, cwd, 1)
        standby = pool._idle[0]
        assert standby.prepared_for == REHEARSED_SCRIPT
        deadline = time.monotonic() + 120
        while not list(scratch.glob("rentals-standby-*")):  # its session started, it rehearses
            assert standby.process.poll() is None, standby.log_path.read_text()
            assert time.monotonic() < deadline, "no scratch folder"
            time.sleep(0.1)
    finally:
        pool.stop_all()  # SIGTERM to its process group, as when the emulator stops
    assert standby.process.wait(timeout=60) == 128 + signal.SIGTERM
    assert not list(scratch.glob("rentals-standby-*"))
