"""The local AWS of the workflow: moto's Step Functions interpreter, Glue and SNS.

One emulator process serves one home (port in ``stack.json``), started on demand by
``rentals run`` and reused while its code and settings are unchanged. Step Functions
executes the real definition; each Glue job run is the job's script run as a local
process; each SNS message is also written to ``$RENTALS_HOME/notifications/``.

moto is pinned (5.2.1) and changed in these small places, each tested in
tests/integration/test_workflow_emulated.py:

1. ``.sync`` Glue tasks: moto's callback code calls ``interrupt_all()`` on a callback
   endpoint that is None for services without ``.waitForTaskToken``, so every
   ``glue:startJobRun.sync`` fails. The sync path is evaluated without that endpoint
   (LocalStack, whose interpreter moto's is, fixed the same code).
2. A cancelled ``.sync`` Glue task (its execution stopped, or a sibling Parallel branch
   failed) stops its job run, as Step Functions does in AWS; moto has no
   ``BatchStopJobRun``, so it is added.
3. A Parallel branch that fails with a ``States.*`` error: moto wraps the name in a
   custom-error type that refuses that prefix, so the Parallel raises ValueError and its
   Catch is skipped. The name is kept as the States error it is.
4. Retry waits are multiplied by ``retry_interval_scale``: local runs need not wait as
   long as AWS does, and the definition stays the one that deploys.
5. Every StartExecution deep-copies the state machine, and with it the backend it refers
   to: every state machine and every past execution, whose workers hold locks. So the
   second execution in an emulator fails (``cannot pickle '_thread.RLock'``). The copy
   keeps the backend and drops the past executions instead.
6. The context object's ``$$.Execution.StartTime`` is a datetime object in moto, where AWS
   gives an ISO 8601 string (``2019-03-26T20:14:13.192Z``, the Context object page of the
   Step Functions developer guide), so string intrinsics on it fail with States.Runtime.
   It is given as AWS gives it.
7. A ``.sync`` task looks at its job run every ``SYNC_POLL_S`` (0.1 s) instead of moto's
   0.5 s: a finished job's next state starts 0.2 s sooner on average, three times per run.
8. A look at a job run whose local process still runs ends there (the run is not over);
   moto's GetJobRun is asked once the process has ended. moto asks it through a boto3
   client, over HTTP into this same server, and at one look every 0.1 s the emulator took
   8.1 s of CPU in a 56 s run at scale 1, 3.6 to 4.0 s with this change (most of it its own
   start; read from /proc): CPU the jobs it runs were short of on two cores.

moto, werkzeug and boto3 are imported inside the functions that patch, serve and call
them: only the emulator process loads moto (seconds), not every `rentals` command that
imports this module to reach it.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rental_analytics.jobs.faults import INJECTED_FAULT_ENV, KILL_AT_ENV
from rental_analytics.local.processes import (
    pid_alive,
    signal_group,
    stop_pid,
    wait_or_kill_group,
)
from rental_analytics.local.standby import StandbyPool, give, standby_jobs
from rental_analytics.runs import CONTEXT_FILE, is_run_id, job_log_path, run_dir, runs_root_of

MOTO_VERSION = "5.2.1"
REGION = "us-east-1"
DEFAULT_RETRY_INTERVAL_SCALE = 0.01
SYNC_POLL_S = 0.1  # change 7
_START_TIMEOUT_S = 60
_STOP_GRACE_S = 20
# Standbys are started once no job run has run for this long (between two states of a run
# the machine is idle for a moment only).
_IDLE_BEFORE_STANDBY_S = 1.0
_STANDBY_LOOK_S = 0.25


class EmulatorError(RuntimeError):
    """The local emulator could not be started or reached; the message says why."""


# -- Glue job runs as local processes ----------------------------------------------------
_ERROR_LINE = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Fault|Exit)\b.*")


def _error_message(log: Path, limit: int = 800) -> str:
    """The job's own account of its failure: the last exception line of its log."""
    lines = log.read_text(errors="replace").splitlines() if log.exists() else []
    for line in reversed(lines):
        if _ERROR_LINE.match(line.strip()):
            return line.strip()[:limit]
    tail = [ln for ln in lines if ln.strip()][-1:]
    return (tail[0] if tail else "the job exited without output")[:limit]


@dataclass
class _Launch:
    process: subprocess.Popen
    log_path: Path
    started: float
    ended: float | None = None
    stop_requested: bool = False


class LocalJobRunner:
    """Starts Glue job runs as processes of the job script, and stops them.

    A run started by the workflow carries ``--run_id``; its ``context.json`` (written by the
    starter) gives the environment the job sees and the faults to inject, so an emulator
    that outlives one ``rentals run`` still runs each job as that run asked.
    """

    def __init__(self, home: Path):
        self.home = home
        self.runs_root = runs_root_of(home)
        self._lock = threading.Lock()
        self._faults: dict[str, dict[str, int]] = {}
        self._launches: dict[str, _Launch] = {}
        # Job runs started while another ran, until they end.
        self._side_by_side: set[str] = set()
        self._standbys = StandbyPool(home / "emulator" / "standby")
        self._standby_for: tuple[dict[str, str], str] | None = None  # the last job run's
        threading.Thread(target=self._keep_standbys, daemon=True).start()

    def _context(self, run_id: str) -> dict[str, Any]:
        if not is_run_id(run_id):
            return {}
        path = run_dir(self.runs_root, run_id) / CONTEXT_FILE
        return json.loads(path.read_text()) if path.exists() else {}

    def _take_fault(self, run_id: str, job_name: str, context: dict[str, Any]) -> dict[str, str]:
        """The environment that makes this job run fail as its run asked, or nothing."""
        with self._lock:
            faults = self._faults.setdefault(
                run_id, {job: dict(f) for job, f in context.get("faults", {}).items()}
            )
            fault = faults.get(job_name)
            if not fault or fault["count"] <= 0:
                return {}
            fault["count"] -= 1
            left = fault["count"]
        if fault.get("at"):
            return {KILL_AT_ENV: fault["at"]}
        return {
            INJECTED_FAULT_ENV: f"injected fault: job {job_name} was told to fail "
            f"(RENTALS_FAIL_JOBS); {left} more injected failure(s) to come in this run"
        }

    def launch(self, job_name: str, script: str, job_run_id: str, arguments: dict) -> None:
        run_id = arguments.get("--run_id", "")
        run_id = run_id if is_run_id(run_id) else ""
        context = self._context(run_id)
        env = {k: v for k, v in os.environ.items() if not k.startswith("RENTALS_")}
        env.update(context.get("env", {}))
        env["RENTALS_HOME"] = str(self.home)
        fault = self._take_fault(run_id, job_name, context)
        if run_id:
            log_path = job_log_path(self.runs_root, run_id, job_name, job_run_id)
        else:
            log_path = self.home / "glue" / job_name / f"{job_run_id}.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        # Glue passes the job's name and run id as reserved arguments, then the others.
        script_path = script.removeprefix("file://")
        argv = [script_path, "--JOB_NAME", job_name, "--JOB_RUN_ID", job_run_id]
        for key, value in arguments.items():
            argv += [key, str(value)]
        cwd = str(Path(script_path).resolve().parent.parent)
        standby = self._standbys.take(env, cwd, script_path)
        if standby is not None and give(standby, argv, fault, log_path):
            process = standby.process
        else:
            with open(log_path, "wb") as log_fh:
                # Its own session, so that stopping the run also stops Spark's JVM.
                process = subprocess.Popen(
                    [sys.executable, *argv], stdout=log_fh, stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL, env={**env, **fault}, cwd=cwd,
                    start_new_session=True,
                )  # fmt: skip
        with self._lock:
            running = [j for j in self._launches if self.is_running(j)]
            if running:  # the job runs side by side with these (a parallel state's branches)
                self._side_by_side.update([*running, job_run_id])
            self._launches[job_run_id] = _Launch(process, log_path, time.time())
        self._standby_for = (env, cwd)

    def _keep_standbys(self) -> None:
        """Start standbys for job runs like the last one, while no job runs: warming takes
        the idle machine's time, not a job's (standby.py). And one, for the next job run,
        when a job run ends while another still runs: one branch of a parallel state is
        done, its core idle until the other branch ends too (standby.py)."""
        idle_since = time.monotonic()
        while True:
            time.sleep(_STANDBY_LOOK_S)
            if self._a_branch_ended():
                self._start_standbys(
                    lambda env, cwd: standby_jobs(env) and self._standbys.add_one(env, cwd)
                )
            if any(self.is_running(j) for j in list(self._launches)):
                idle_since = time.monotonic()
            elif time.monotonic() - idle_since >= _IDLE_BEFORE_STANDBY_S:
                self._start_standbys(
                    lambda env, cwd: self._standbys.fill(env, cwd, standby_jobs(env))
                )

    def _a_branch_ended(self) -> bool:
        """Whether a job run that ran side by side with others has ended since the last
        look, while one of the others still runs. (A job run started after the one before
        it ended, the next state's, ran beside nothing.)"""
        with self._lock:
            ended = {j for j in self._side_by_side if not self.is_running(j)}
            self._side_by_side -= ended
            return bool(ended and self._side_by_side)

    def _start_standbys(self, start: Callable[[dict[str, str], str], object]) -> None:
        """``start(env, cwd)`` for job runs like the last one, if there was one."""
        if not self._standby_for:
            return
        env, cwd = self._standby_for
        try:
            start(env, cwd)
        except (OSError, ValueError) as exc:  # job runs start as processes of their own
            print(f"standby processes not started: {exc}", file=sys.stderr, flush=True)
            self._standby_for = None

    def is_running(self, job_run_id: str) -> bool:
        """Whether the job run is a process of this runner's that has not ended."""
        launch = self._launches.get(job_run_id)
        return launch is not None and launch.process.poll() is None

    def state(self, job_run_id: str) -> dict[str, Any]:
        """The JobRun fields a local process decides: state, times, error message."""
        launch = self._launches.get(job_run_id)
        if launch is None:
            return {}
        code = launch.process.poll()
        if code is None:
            return {
                "JobRunState": "STOPPING" if launch.stop_requested else "RUNNING",
                "ExecutionTime": int(time.time() - launch.started),
            }
        if launch.ended is None:
            launch.ended = time.time()
        status = "STOPPED" if launch.stop_requested else "SUCCEEDED" if code == 0 else "FAILED"
        fields = {
            "JobRunState": status,
            "CompletedOn": datetime.fromtimestamp(launch.ended, UTC),
            "ExecutionTime": int(launch.ended - launch.started),
        }
        if status == "FAILED":
            how = f"exit code {code}"
            if code < 0:  # killed by a signal, e.g. kill -9: the log just stops
                how = f"killed by {signal.Signals(-code).name}"
            fields["ErrorMessage"] = (
                f"{_error_message(launch.log_path)} ({how}, log {launch.log_path})"
            )
        return fields

    def stop(self, job_run_id: str) -> bool:
        """Ask a running job to stop (SIGTERM to its process group, SIGKILL after a grace)."""
        launch = self._launches.get(job_run_id)
        if launch is None or launch.process.poll() is not None:
            return False
        launch.stop_requested = True
        signal_group(launch.process, signal.SIGTERM)
        threading.Thread(
            target=wait_or_kill_group, args=(launch.process, _STOP_GRACE_S), daemon=True
        ).start()
        return True

    def stop_all(self) -> None:
        self._standbys.stop_all()
        for job_run_id in list(self._launches):
            self.stop(job_run_id)


# -- the moto changes --------------------------------------------------------------------
_patched = False


def patch_moto(runner: LocalJobRunner, retry_interval_scale: float, notifications: Path) -> None:
    """Apply the changes listed in the module docstring (once per process)."""
    global _patched
    if _patched:
        return
    import moto

    if moto.__version__ != MOTO_VERSION:
        raise EmulatorError(
            f"the emulator patches moto {MOTO_VERSION}, found {moto.__version__}: "
            "reinstall the project (make setup)"
        )
    _patch_sync_glue_tasks(runner)
    _patch_parallel_error_names()
    _patch_retry_waits(retry_interval_scale)
    _patch_state_machine_copy()
    _patch_execution_start_time()
    _patch_sync_poll()
    _attach_glue_runs(runner)
    _capture_sns(notifications)
    _patched = True


def _patch_sync_poll() -> None:
    """Change 7: a .sync task checks its job run every SYNC_POLL_S."""
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
        state_task_service_callback as callback,
    )

    callback._DELAY_SECONDS_SYNC_CONDITION_CHECK = SYNC_POLL_S


def _patch_sync_glue_tasks(runner: LocalJobRunner) -> None:
    """Changes 1, 2 and 8: evaluate .sync without a callback endpoint, asking Glue about a
    job run only once its process has ended; stop a cancelled run."""
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
        state_task_service_glue as glue_task,
    )

    def _eval_integration_pattern(
        self, env, resource_runtime_part, normalised_parameters, state_credentials
    ):
        started = env.stack.pop()  # StartJobRun's output: JobName, JobRunId
        self.timeout.eval(env=env)
        timeout_seconds = env.stack.pop()
        env.stack.append(started)
        get_job_run = self._build_sync_resolver(
            env=env,
            resource_runtime_part=resource_runtime_part,
            normalised_parameters=normalised_parameters,
            state_credentials=state_credentials,
        )

        def resolver() -> Any | None:  # change 8: None is "not over yet", as moto's
            return None if runner.is_running(started["JobRunId"]) else get_job_run()

        try:
            outcome = self._eval_sync(
                env=env, sync_resolver=resolver, timeout_seconds=timeout_seconds,
                callback_endpoint=None, heartbeat_endpoint=None,
            )  # fmt: skip
        finally:
            if not env.is_running():
                self._get_glue_client(resource_runtime_part, state_credentials).batch_stop_job_run(
                    JobName=started["JobName"], JobRunIds=[started["JobRunId"]]
                )
        env.stack.append(outcome)

    glue_task.StateTaskServiceGlue._eval_integration_pattern = _eval_integration_pattern


def _patch_parallel_error_names() -> None:
    """Change 3: a branch's States.* error stays a States error name."""
    from moto.stepfunctions.parser.asl.component.common.error_name.custom_error_name import (
        CustomErrorName,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import (
        StatesErrorName,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_parallel import branches_decl

    def branch_error_name(error_name: str | None):
        if error_name and error_name.startswith("States."):
            return StatesErrorName.from_name(error_name)
        return CustomErrorName(error_name=error_name)

    branches_decl.CustomErrorName = branch_error_name


class _ScaledSleep:
    def __init__(self, scale: float):
        self.scale = scale

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds * self.scale)


def _patch_retry_waits(scale: float) -> None:
    """Change 4: the retrier's only use of ``time`` is its wait."""
    from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl

    retrier_decl.time = _ScaledSleep(scale)


def _patch_state_machine_copy() -> None:
    """Change 5: an execution's copy of its state machine, without the whole backend."""
    from moto.stepfunctions.models import StateMachine

    def __deepcopy__(self, memo):
        clone = copy.copy(self)
        memo[id(self)] = clone
        for name, value in vars(self).items():
            if name == "executions":
                value = []
            elif name != "backend":
                value = copy.deepcopy(value, memo)
            setattr(clone, name, value)
        return clone

    StateMachine.__deepcopy__ = __deepcopy__


def aws_timestamp(value: datetime) -> str:
    """A datetime as AWS writes it in a context object: UTC, milliseconds, ``Z``."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.isoformat(timespec="milliseconds") + "Z"


def _patch_execution_start_time() -> None:
    """Change 6: ``$$.Execution.StartTime`` as the ISO 8601 string AWS gives."""
    from moto.stepfunctions.parser.backend import execution_worker

    execution_data = execution_worker.ExecutionData

    def with_iso_start_time(**fields):
        if isinstance(fields.get("StartTime"), datetime):
            fields["StartTime"] = aws_timestamp(fields["StartTime"])
        return execution_data(**fields)

    execution_worker.ExecutionData = with_iso_start_time


def _attach_glue_runs(runner: LocalJobRunner) -> None:
    """Job runs execute the job's ScriptLocation; BatchStopJobRun stops them."""
    from moto.core.responses import ActionResult
    from moto.glue import models as glue_models
    from moto.glue import responses as glue_responses

    class LocalProcessJobRun(glue_models.FakeJobRun):
        @property
        def status(self) -> str:
            return runner.state(self.job_run_id).get("JobRunState", "STARTING")

        @status.setter
        def status(self, value: str) -> None:  # ManagedState's initial value: unused
            pass

        def as_dict(self) -> dict[str, Any]:
            doc = super().as_dict()
            doc.pop("CompletedOn", None)
            doc.update(runner.state(self.job_run_id))
            doc.update({"GlueVersion": "5.0", "LogGroupName": "/aws-glue/jobs/output"})
            return doc

    original_start = glue_models.FakeJob.start_job_run

    def start_job_run(self, **kwargs) -> str:
        job_run_id = original_start(self, **kwargs)
        run = self.job_runs[-1]
        runner.launch(self.name, self.command["ScriptLocation"], job_run_id, run.arguments)
        return job_run_id

    def batch_stop_job_run(self) -> ActionResult:
        name = self._get_param("JobName")
        job = self.glue_backend.get_job(name)
        known = {r.job_run_id for r in job.job_runs}
        stopped, errors = [], []
        for run_id in self._get_param("JobRunIds") or []:
            if run_id in known and runner.stop(run_id):
                stopped.append({"JobName": name, "JobRunId": run_id})
            else:
                errors.append({
                    "JobName": name, "JobRunId": run_id,
                    "ErrorDetail": {"ErrorCode": "InvalidInputException",
                                    "ErrorMessage": "job run is not running"},
                })  # fmt: skip
        return ActionResult({"SuccessfulSubmissions": stopped, "Errors": errors})

    glue_models.FakeJobRun = LocalProcessJobRun
    glue_models.FakeJob.start_job_run = start_job_run
    glue_responses.GlueResponse.batch_stop_job_run = batch_stop_job_run


def _capture_sns(notifications: Path) -> None:
    """Every SNS publish is also delivered as a file, the local stand-in for a subscriber."""
    from moto.sns import models as sns_models

    original_publish = sns_models.Topic.publish

    def publish(self, message: str, subject: str | None = None, **kwargs) -> str:
        message_id = original_publish(self, message, subject=subject, **kwargs)
        now = datetime.now(UTC)
        doc = {
            "topic_arn": self.arn,
            "subject": subject,
            "message": message,
            "message_id": message_id,
            "published_at": now.isoformat(),
        }
        notifications.mkdir(parents=True, exist_ok=True)
        path = notifications / f"{now:%Y%m%dT%H%M%S%fZ}-{message_id}.json"
        path.write_text(json.dumps(doc, indent=2) + "\n")
        return message_id

    sns_models.Topic.publish = publish


# -- the server process ------------------------------------------------------------------
def serve(home: Path, port: int, retry_interval_scale: float) -> None:
    """Run the emulator in this process until SIGTERM; job processes are stopped with it."""
    # moto's request recorder (its /moto-api/recorder/ API, off until asked) writes in the
    # home, not in whatever folder the emulator was started from. Read as moto is imported.
    os.environ["MOTO_RECORDER_FILEPATH"] = str(home / "emulator" / "moto_recording")
    from moto.core.config import default_user_config
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
    from werkzeug.serving import make_server

    # The interpreter calls Glue and SNS through this same server.
    os.environ["MOTO_PORT"] = str(port)
    default_user_config["stepfunctions"]["execute_state_machine"] = True
    runner = LocalJobRunner(home)
    patch_moto(runner, retry_interval_scale, home / "notifications")
    server = make_server("127.0.0.1", port, DomainDispatcherApplication(create_backend_app), True)

    def shutdown(signum, frame) -> None:
        runner.stop_all()
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, shutdown)
    signal.signal(signal.SIGINT, shutdown)
    server.serve_forever()


# -- the client side: start, reuse, stop -------------------------------------------------
def code_fingerprint() -> str:
    """Changes when the emulator's code (with its job runs' standbys) or moto does: a running
    emulator is then replaced."""
    code = Path(__file__).read_bytes() + Path(__file__).with_name("standby.py").read_bytes()
    return hashlib.sha256(code + MOTO_VERSION.encode()).hexdigest()[:16]


def retry_interval_scale() -> float:
    value = os.environ.get("RENTALS_RETRY_INTERVAL_SCALE", str(DEFAULT_RETRY_INTERVAL_SCALE))
    try:
        scale = float(value)
    except ValueError:
        scale = -1.0
    if not 0 <= scale <= 1:
        raise EmulatorError(
            f"RENTALS_RETRY_INTERVAL_SCALE must be a number from 0 to 1, got {value!r}"
        )
    return scale


class LocalEmulator:
    """The emulator process of one home."""

    def __init__(self, home: Path, port: int):
        self.home = home
        self.port = port
        self.dir = home / "emulator"
        self.state_file = self.dir / "emulator.json"
        self.pid_file = self.dir / "emulator.pid"
        self.log = self.dir / "emulator.log"

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def client(self, service: str):
        import boto3
        from botocore.config import Config

        return boto3.client(
            service, endpoint_url=self.endpoint_url, region_name=REGION,
            aws_access_key_id="local", aws_secret_access_key="local",  # noqa: S106 - emulator
            config=Config(retries={"max_attempts": 2}),
        )  # fmt: skip

    def _running(self) -> dict[str, Any] | None:
        """The running emulator's settings, or None when none runs."""
        if pid_alive(self.pid_file) is None or not self.state_file.exists():
            return None
        return json.loads(self.state_file.read_text())

    def _responds(self) -> bool:
        import urllib.request

        try:
            with urllib.request.urlopen(f"{self.endpoint_url}/moto-api/", timeout=2):  # noqa: S310
                return True
        except OSError:
            return False

    def ensure(self) -> None:
        """Start the emulator, or reuse the running one if it has this code and settings."""
        scale = retry_interval_scale()
        wanted = {"code": code_fingerprint(), "retry_interval_scale": scale, "port": self.port}
        state = self._running()
        if state and all(state.get(k) == v for k, v in wanted.items()) and self._responds():
            return
        self.stop()
        self.dir.mkdir(parents=True, exist_ok=True)
        with open(self.log, "ab") as log_fh:
            process = subprocess.Popen(
                [sys.executable, "-m", "rental_analytics.local.emulator", "--home", str(self.home),
                 "--port", str(self.port), "--retry-interval-scale", str(scale)],
                stdout=log_fh, stderr=log_fh, stdin=subprocess.DEVNULL, start_new_session=True,
            )  # fmt: skip
        deadline = time.monotonic() + _START_TIMEOUT_S
        while time.monotonic() < deadline:
            if process.poll() is not None:
                break
            if self._responds():
                self.pid_file.write_text(f"{process.pid}\n")
                self.state_file.write_text(json.dumps(wanted) + "\n")
                return
            time.sleep(0.2)
        tail = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
        process.kill()
        raise EmulatorError(f"the local AWS emulator did not start on port {self.port}:\n{tail}")

    def stop(self) -> None:
        stop_pid(self.pid_file, timeout_s=_STOP_GRACE_S + 5)
        self.pid_file.unlink(missing_ok=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="the local AWS emulator of one home")
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--retry-interval-scale", type=float, default=DEFAULT_RETRY_INTERVAL_SCALE)
    args = parser.parse_args(argv)
    serve(args.home.resolve(), args.port, args.retry_interval_scale)


if __name__ == "__main__":
    main()
