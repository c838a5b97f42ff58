"""The workflow: the state machine in ``workflow/``, the Glue jobs it names, and its runs.

The definition is the one AWS runs: job names and the alert topic are substitutions
(``${LoadRawJobName}``), filled by CloudFormation's DefinitionSubstitutions in AWS and by
``deploy`` here. Locally ``rentals run`` deploys the definition and the jobs into the
home's emulator, starts an execution through the Step Functions API, follows its history
(progress lines as states start, retry, finish) and writes the run ledger.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from rental_analytics.jobs.faults import KILL_POINTS, is_kill_delay
from rental_analytics.runs import (
    CONTEXT_FILE,
    Attempt,
    RunLedger,
    RunRecord,
    StepRecord,
    job_log_path,
    job_metrics_path,
    readable_failure,
    run_dir,
    runs_root_of,
    write_json_atomically,
)

REPO = Path(__file__).resolve().parents[2]
WORKFLOW_DIR = REPO / "workflow"
DEFINITION_FILE = WORKFLOW_DIR / "rental_analytics.asl.json"
SCHEDULE_FILE = WORKFLOW_DIR / "schedule.json"
STATE_MACHINE_NAME = "rental-analytics"
ALERT_TOPIC_NAME = "rental-analytics-alerts"
FAULTS_ENV = "RENTALS_FAIL_JOBS"
_SUBSTITUTION = re.compile(r"\$\{([A-Za-z0-9_]+)\}")
_POLL_S = 0.5
# While an execution runs, its history is read every _HISTORY_S and its status looked at
# every _STATUS_S in between: its end is seen within 0.2 s, not 0.5 s, for less of the
# emulator's CPU (GetExecutionHistory: 19 ms of it, DescribeExecution: 2 ms).
_HISTORY_S, _STATUS_S = 1.0, 0.2


class WorkflowError(RuntimeError):
    """The workflow could not be deployed or started; the message says why."""


@dataclass(frozen=True)
class GlueJob:
    """One Glue job of the workflow: the state that runs it and the script it runs."""

    name: str  # the local job name, also what RENTALS_FAIL_JOBS names
    state: str
    substitution: str
    script: str
    body: str  # the job its script runs, rental_analytics/jobs/<body>.py; its kill points' key
    default_arguments: dict[str, str] = field(default_factory=dict)


JOBS: tuple[GlueJob, ...] = (
    GlueJob("extract_apartments", "ExtractApartments", "ExtractApartmentsJobName",
            "extract.py", "extract", {"--domain": "apartments"}),
    GlueJob("extract_vehicle_rentals", "ExtractVehicleRentals", "ExtractVehicleRentalsJobName",
            "extract.py", "extract", {"--domain": "vehicle_rentals"}),
    GlueJob("load_raw", "LoadRaw", "LoadRawJobName", "load_raw.py", "load_raw"),
    GlueJob("curate", "Curate", "CurateJobName", "curate.py", "curate"),
)  # fmt: skip
JOB_BY_STATE = {j.state: j for j in JOBS}
JOB_BY_NAME = {j.name: j for j in JOBS}


def substitute(text: str, values: dict[str, str]) -> str:
    """Fill ``${Name}`` placeholders as CloudFormation's DefinitionSubstitutions does."""
    missing = sorted(set(_SUBSTITUTION.findall(text)) - set(values))
    if missing:
        raise WorkflowError(f"no value for substitution(s) {', '.join(missing)}")
    return _SUBSTITUTION.sub(lambda m: values[m.group(1)], text)


def definition(values: dict[str, str]) -> str:
    return substitute(DEFINITION_FILE.read_text(), values)


@dataclass(frozen=True)
class Fault:
    """Make a job's next ``count`` runs fail: raising as they start (``at`` None), or
    dying by SIGKILL at a kill point of the job or ``N.Ns`` seconds after starting."""

    count: int = 1
    at: str | None = None

    def describe(self) -> str:
        how = "fail at start" if self.at is None else f"killed at {self.at}"
        return f"{how} x{self.count}"


def _kill_points(job: str) -> tuple[str, ...]:
    return KILL_POINTS[JOB_BY_NAME[job].body]


def parse_faults(spec: str) -> dict[str, Fault]:
    """``RENTALS_FAIL_JOBS``: ``job[@point][:N][,...]``, each named job failing its next N
    runs: at start, or killed (SIGKILL) at a kill point or after a delay such as ``2.5s``."""
    names = {j.name for j in JOBS}
    faults: dict[str, Fault] = {}
    for item in filter(None, (s.strip() for s in spec.split(","))):
        target, _, count = item.partition(":")
        name, _, point = target.partition("@")
        if name not in names:
            raise WorkflowError(
                f"{FAULTS_ENV}: unknown job {name!r} (jobs: {', '.join(sorted(names))})"
            )
        if count and not count.isdigit():
            raise WorkflowError(
                f"{FAULTS_ENV}: {item!r} is not job[@point]:N with N a whole number"
            )
        if point and point not in _kill_points(name) and not is_kill_delay(point):
            raise WorkflowError(
                f"{FAULTS_ENV}: {item!r}: {name} has no kill point {point!r} (kill points: "
                f"{', '.join(_kill_points(name))}, or a delay such as 2.5s)"
            )
        faults[name] = Fault(int(count or 1), point or None)
    return faults


# -- following an execution --------------------------------------------------------------
@dataclass(frozen=True)
class Progress:
    """One line of live progress: kind is started, succeeded, failed, stopped or info."""

    kind: str
    state: str
    text: str


def _iso(ts: Any) -> str:
    if isinstance(ts, datetime):
        return ts.astimezone(UTC).isoformat()
    return str(ts or "")


def _one_line(text: str, limit: int = 300) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


class ExecutionFollower:
    """Turns an execution's history into step records and progress lines, event by event.

    Events are matched to their state through ``previousEventId``: every event follows the
    one before it in the same state (branches of a Parallel interleave in the history).
    """

    def __init__(self, record: RunRecord, runs_root: Path, on_progress: Callable[[Progress], None]):
        self.record = record
        self.runs_root = runs_root
        self.on_progress = on_progress
        self.seen: set[int] = set()
        self.state_of: dict[int, str] = {}
        self.steps: dict[str, StepRecord] = {}

    def _step(self, state: str) -> StepRecord:
        if state not in self.steps:
            job = JOB_BY_STATE.get(state)
            step = StepRecord(state=state, job=job.name if job else "")
            self.steps[state] = step
            self.record.steps.append(step)
        return self.steps[state]

    def feed(self, events: list[dict[str, Any]]) -> bool:
        """Take the events not seen yet; whether there were any."""
        new = [ev for ev in sorted(events, key=lambda e: e["id"]) if ev["id"] not in self.seen]
        for ev in new:
            self.seen.add(ev["id"])
            self._event(ev)
        return bool(new)

    def _event(self, ev: dict[str, Any]) -> None:
        kind, at = ev["type"], _iso(ev.get("timestamp"))
        entered = ev.get("stateEnteredEventDetails")
        exited = ev.get("stateExitedEventDetails")
        state = (entered or exited or {}).get("name") or self.state_of.get(
            ev.get("previousEventId", 0), ""
        )
        self.state_of[ev["id"]] = state
        if kind == "TaskStateEntered":
            step = self._step(state)
            step.started_at = step.started_at or at
        elif kind == "TaskScheduled":
            step = self._step(state)
            step.attempts.append(Attempt(attempt=len(step.attempts) + 1, started_at=at))
            job = f" (Glue job {step.job})" if step.job else ""
            again = f", attempt {len(step.attempts)}" if len(step.attempts) > 1 else ""
            self.on_progress(Progress("started", state, f"{state} started{job}{again}"))
        elif kind == "TaskSubmitted":
            output = json.loads(ev["taskSubmittedEventDetails"].get("output") or "{}")
            attempt = self._step(state).attempts[-1]
            attempt.job_run_id = output.get("JobRunId", "")
        elif kind == "TaskSucceeded":
            self._end_attempt(state, "SUCCEEDED", at)
        elif kind in ("TaskFailed", "TaskTimedOut"):
            details = ev.get("taskFailedEventDetails") or ev.get("taskTimedOutEventDetails") or {}
            attempt = self._end_attempt(state, "FAILED", at)
            attempt.error, attempt.cause = details.get("error", ""), details.get("cause", "")
            self.on_progress(
                Progress("failed", state, f"{state} attempt {attempt.attempt} failed: "
                         f"{_one_line(readable_failure(attempt.error, attempt.cause))}")
            )  # fmt: skip
        elif kind == "TaskStateExited":
            step = self._step(state)
            step.ended_at = at
            last = step.attempts[-1] if step.attempts else None
            step.status = last.status if last else "FAILED"
            if step.status == "SUCCEEDED":
                self.on_progress(
                    Progress("succeeded", state, f"{state} succeeded{self._rows(step)}")
                )
                # An extract's notes (source columns it ignored, empty files) under its line.
                metrics = step.attempts[-1].metrics if step.attempts else {}
                for t in metrics.get("tables", []):
                    for note in t.get("notes", []):
                        self.on_progress(Progress("info", state, f"  note: {t['table']}: {note}"))
        elif kind == "ParallelStateEntered":
            self.on_progress(Progress("info", state, f"{state}: branches start in parallel"))
        elif kind == "ExecutionSucceeded":
            self._finish("SUCCEEDED", at)
        elif kind in ("ExecutionFailed", "ExecutionAborted", "ExecutionTimedOut"):
            details = (ev.get("executionFailedEventDetails") or ev.get("executionAbortedEventDetails")
                       or ev.get("executionTimedOutEventDetails") or {})  # fmt: skip
            self.record.error = details.get("error", "")
            self.record.cause = details.get("cause", "")
            status = {"ExecutionFailed": "FAILED", "ExecutionAborted": "ABORTED"}.get(
                kind, "TIMED_OUT"
            )
            self._finish(status, at)

    def _end_attempt(self, state: str, status: str, at: str) -> Attempt:
        step = self._step(state)
        if not step.attempts:  # failed before it was scheduled (parameters, say)
            step.attempts.append(Attempt(attempt=1, started_at=at))
        attempt = step.attempts[-1]
        attempt.status, attempt.ended_at = status, at
        self.attach_job_files(step, attempt)
        return attempt

    def attach_job_files(self, step: StepRecord, attempt: Attempt) -> None:
        if not (step.job and attempt.job_run_id):
            return
        rid = self.record.run_id
        log = job_log_path(self.runs_root, rid, step.job, attempt.job_run_id)
        metrics = job_metrics_path(self.runs_root, rid, step.job, attempt.job_run_id)
        attempt.log_path = str(log) if log.exists() else ""
        if metrics.exists():
            attempt.metrics = json.loads(metrics.read_text()).get("metrics", {})

    def _rows(self, step: StepRecord) -> str:
        f = step.figures()
        parts = [f"{v:,} {k}" for k, v in f.items() if v]
        return f": {', '.join(parts)}" if parts else ""

    def _finish(self, status: str, at: str) -> None:
        self.record.status, self.record.ended_at = status, at

    def cancelled_steps(self) -> list[StepRecord]:
        """Task states the execution left without an end: a stopped sibling branch, say."""
        return [s for s in self.record.steps if s.status == "RUNNING"]


# -- the local workflow ------------------------------------------------------------------
class LocalWorkflow:
    """Deploys the workflow into a home's emulator and runs it."""

    def __init__(self, home: Path, emulator, scripts_dir: Path = REPO / "glue_jobs"):
        self.home = home
        self.scripts_dir = scripts_dir
        self.runs_root = runs_root_of(home)
        self.emulator = emulator
        self.sfn = emulator.client("stepfunctions")
        self.glue = emulator.client("glue")
        self.sns = emulator.client("sns")

    def deploy(self) -> str:
        """Create or update the jobs, the alert topic and the state machine; its ARN."""
        for job in JOBS:
            spec = {
                "Role": "arn:aws:iam::123456789012:role/rental-analytics-glue",
                "Command": {"Name": "glueetl", "PythonVersion": "3",
                            "ScriptLocation": str(self.scripts_dir / job.script)},
                "DefaultArguments": job.default_arguments,
                "GlueVersion": "5.0",
                "ExecutionProperty": {"MaxConcurrentRuns": 1},
            }  # fmt: skip
            try:
                current = self.glue.get_job(JobName=job.name)["Job"]
            except self.glue.exceptions.EntityNotFoundException:
                current = None
            if current and all(current.get(k) == v for k, v in spec.items()):
                continue  # unchanged: its runs (and their concurrency limit) stay
            # moto has no UpdateJob: a changed job definition is replaced whole.
            if current:
                self.glue.delete_job(JobName=job.name)
            self.glue.create_job(Name=job.name, **spec)
        topic_arn = self.sns.create_topic(Name=ALERT_TOPIC_NAME)["TopicArn"]
        values = {j.substitution: j.name for j in JOBS} | {"AlertTopicArn": topic_arn}
        body = definition(values)
        role = "arn:aws:iam::123456789012:role/rental-analytics-states"
        for sm in self.sfn.list_state_machines()["stateMachines"]:
            if sm["name"] == STATE_MACHINE_NAME:
                arn = sm["stateMachineArn"]
                # Updated only when changed: moto parses the definition it is given again,
                # 0.13-0.16 s of every run's start.
                if self.sfn.describe_state_machine(stateMachineArn=arn)["definition"] != body:
                    self.sfn.update_state_machine(stateMachineArn=arn, definition=body)
                return arn
        created = self.sfn.create_state_machine(
            name=STATE_MACHINE_NAME, definition=body, roleArn=role
        )
        return created["stateMachineArn"]

    def abort_orphan(self, run_id: str, execution_arn: str) -> str:
        """Stop the execution of a killed ``rentals run`` and close its ledger entry.

        Its job runs are stopped with it (a cancelled task stops its job run). Returns what
        was found: the execution's status before, or that the emulator no longer knows it.
        """
        status = "UNKNOWN"
        if execution_arn:
            try:
                status = self.sfn.describe_execution(executionArn=execution_arn)["status"]
            except self.sfn.exceptions.ExecutionDoesNotExist:
                status = "UNKNOWN"  # the emulator was restarted since: nothing runs
            if status == "RUNNING":
                self.sfn.stop_execution(
                    executionArn=execution_arn, cause="its rentals run was killed"
                )
                self._wait_for_job_runs_to_end()
        ledger = RunLedger(self.runs_root)
        if run_id and ledger.path(run_id).exists():
            record = ledger.load(run_id)
            if record.status == "RUNNING":
                record.status, record.ended_at = "ABORTED", datetime.now(UTC).isoformat()
                record.error = "its rentals run was killed; stopped by the next run"
                ledger.save(record)
        return status

    def _wait_for_job_runs_to_end(self, timeout_s: float = 60) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            active = [
                r
                for job in JOBS
                for r in self.glue.get_job_runs(JobName=job.name)["JobRuns"]
                if r["JobRunState"] in ("STARTING", "RUNNING", "STOPPING")
            ]
            if not active:
                return
            time.sleep(_POLL_S)

    def new_run_id(self, run_date: date) -> str:
        base = f"{run_date.isoformat()}_{datetime.now(UTC):%Y%m%dT%H%M%SZ}"
        run_id, n = base, 1
        while run_dir(self.runs_root, run_id).exists():
            n += 1
            run_id = f"{base}-{n}"
        return run_id

    def run(
        self,
        run_date: date,
        full_refresh: tuple[str, ...],
        job_env: dict[str, str],
        faults: dict[str, Fault],
        on_progress: Callable[[Progress], None],
        on_started: Callable[[RunRecord], None] | None = None,
    ) -> RunRecord:
        """Start one execution and follow it to its end; the ledger records it as it goes."""
        arn = self.deploy()
        run_id = self.new_run_id(run_date)
        write_json_atomically(
            run_dir(self.runs_root, run_id) / CONTEXT_FILE,
            {"env": job_env, "faults": {job: asdict(f) for job, f in faults.items()}},
        )
        record = RunRecord(
            run_id=run_id, run_date=run_date.isoformat(), started_at=datetime.now(UTC).isoformat()
        )
        payload = {"run_date": run_date.isoformat(),
                   "full_refresh": ",".join(full_refresh) if full_refresh else "none"}  # fmt: skip
        record.execution_arn = self.sfn.start_execution(
            stateMachineArn=arn, name=run_id, input=json.dumps(payload)
        )["executionArn"]
        ledger = RunLedger(self.runs_root)
        ledger.save(record)
        if on_started:
            on_started(record)
        follower = ExecutionFollower(record, self.runs_root, on_progress)
        try:
            self._follow(follower, ledger)
        except KeyboardInterrupt:
            self.sfn.stop_execution(executionArn=record.execution_arn, cause="interrupted by user")
            self._follow(follower, ledger)
        self._settle_cancelled(follower, on_progress)
        self._attach_notifications(record)
        ledger.save(record)
        return record

    def _follow(self, follower: ExecutionFollower, ledger: RunLedger) -> None:
        """Poll the history until the execution ends; the ledger follows each change."""
        arn = follower.record.execution_arn
        while True:
            history = self.sfn.get_execution_history(executionArn=arn, maxResults=1000)
            if follower.feed(history["events"]):
                ledger.save(follower.record)
            if follower.record.status != "RUNNING":
                return
            next_read = time.monotonic() + _HISTORY_S
            while time.monotonic() < next_read:
                time.sleep(_STATUS_S)
                if self.sfn.describe_execution(executionArn=arn)["status"] != "RUNNING":
                    break

    def _settle_cancelled(self, follower: ExecutionFollower, on_progress) -> None:
        """Wait for the job runs of cancelled states to stop, and record how they ended."""
        for step in follower.cancelled_steps():
            attempt = step.attempts[-1] if step.attempts else None
            state = "STOPPED"
            if step.job and attempt and attempt.job_run_id:
                deadline = time.monotonic() + 60
                while time.monotonic() < deadline:
                    run = self.glue.get_job_run(JobName=step.job, RunId=attempt.job_run_id)
                    state = run["JobRun"]["JobRunState"]
                    if state not in ("STARTING", "RUNNING", "STOPPING"):
                        break
                    time.sleep(_POLL_S)
                attempt.status, attempt.ended_at = state, _iso(run["JobRun"].get("CompletedOn"))
                follower.attach_job_files(step, attempt)
            step.status, step.ended_at = state, follower.record.ended_at
            on_progress(Progress("stopped", step.state, f"{step.state} cancelled: job run {state}"))

    def _attach_notifications(self, record: RunRecord) -> None:
        folder = self.home / "notifications"
        for path in sorted(folder.glob("*.json")) if folder.exists() else []:
            try:
                message = json.loads(json.loads(path.read_text())["message"])
            except (ValueError, KeyError, TypeError):
                continue  # not an alert of this workflow
            if isinstance(message, dict) and message.get("run_id") == record.run_id:
                record.notifications.append(str(path))
