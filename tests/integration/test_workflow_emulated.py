"""The real state machine definition, executed by the local emulator (moto, patched).

Glue jobs here are stand-ins (fake_glue_jobs/) that record their arguments, sleep and exit
as told, so the workflow's wiring is tested in seconds: states, arguments, retries,
alerts, the stopped sibling, the schedule's input. tests/e2e runs it with the real jobs.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from rental_analytics.local.emulator import SYNC_POLL_S, LocalEmulator
from rental_analytics.local.orchestration import SCHEDULE_FILE, Fault, LocalWorkflow, substitute

pytestmark = pytest.mark.integration

FAKE_JOBS = Path(__file__).parent / "fake_glue_jobs"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def emulator(tmp_path_factory):
    home = tmp_path_factory.mktemp("workflow_home")
    previous = os.environ.get("RENTALS_RETRY_INTERVAL_SCALE")
    # IntervalSeconds 60 in the definition: 0.6 s here.
    os.environ["RENTALS_RETRY_INTERVAL_SCALE"] = "0.01"
    emu = LocalEmulator(home, _free_port())
    emu.ensure()
    yield emu
    emu.stop()
    if previous is None:
        os.environ.pop("RENTALS_RETRY_INTERVAL_SCALE")
    else:
        os.environ["RENTALS_RETRY_INTERVAL_SCALE"] = previous


@pytest.fixture
def workflow(emulator):
    return LocalWorkflow(emulator.home, emulator, scripts_dir=FAKE_JOBS)


def _run(workflow, env=None, faults=None, full_refresh=()):
    from datetime import date

    lines = []
    record = workflow.run(date(2026, 11, 23), full_refresh, env or {}, faults or {}, lines.append)
    return record, lines


def _steps(record) -> dict:
    return {s.state: s for s in record.steps}


def _alerts(home: Path, run_id: str) -> list[dict]:
    found = []
    for path in sorted((home / "notifications").glob("*.json")):
        doc = json.loads(path.read_text())
        message = json.loads(doc["message"])
        if message["run_id"] == run_id:
            found.append({**doc, "message": message})
    return found


@contextmanager
def _requests_served(emulator) -> Iterator[list[str]]:
    """The API action (X-Amz-Target) of every request the emulator served inside the block,
    filled in as it ends: moto's request recorder, through its /moto-api/recorder/ API."""

    def recorder(action: str) -> str:
        url = f"{emulator.endpoint_url}/moto-api/recorder/{action}"
        with urllib.request.urlopen(urllib.request.Request(url, method="POST")) as response:  # noqa: S310
            return response.read().decode()

    targets: list[str] = []
    recorder("reset-recording")
    recorder("start-recording")
    try:
        yield targets
    finally:
        recorder("stop-recording")
        for line in recorder("download-recording").splitlines():
            targets.append(json.loads(line)["headers"].get("X-Amz-Target"))
        recorder("reset-recording")


def _job_calls(home: Path, job: str, run_id: str) -> list[dict]:
    """What the stand-in job recorded in each run of ``job`` in one execution."""
    calls = [json.loads(p.read_text()) for p in (home / "fake_jobs").glob(f"{job}.*.json")]
    return [c for c in calls if c["args"].get("--run_id") == run_id]


def test_clean_run_passes_each_job_its_arguments(workflow, emulator):
    record, lines = _run(workflow, full_refresh=("apartments",))
    assert record.status == "SUCCEEDED", record
    steps = _steps(record)
    assert set(steps) == {
        "ExtractApartments", "ExtractVehicleRentals", "LoadRaw", "Curate",
    }  # fmt: skip
    assert all(len(s.attempts) == 1 and s.status == "SUCCEEDED" for s in steps.values())
    # Both extracts ran before load_raw started, load_raw before curate.
    extract_end = max(steps["ExtractApartments"].ended_at, steps["ExtractVehicleRentals"].ended_at)
    assert extract_end <= steps["LoadRaw"].started_at <= steps["Curate"].started_at
    (call,) = [
        c["args"] for c in _job_calls(emulator.home, "extract_vehicle_rentals", record.run_id)
    ]
    assert call["--domain"] == "vehicle_rentals"
    assert call["--run_date"] == "2026-11-23"
    assert call["--full_refresh"] == "apartments"
    assert call["--run_id"] == record.run_id
    assert call["--JOB_RUN_ID"] == steps["ExtractVehicleRentals"].attempts[0].job_run_id
    assert any("LoadRaw started" in p.text for p in lines)
    ledger = json.loads((emulator.home / "runs" / record.run_id / "run.json").read_text())
    assert ledger["status"] == "SUCCEEDED" and len(ledger["steps"]) == 4


def test_a_job_failing_once_is_retried_and_the_run_succeeds(workflow, emulator):
    record, lines = _run(workflow, faults={"curate": Fault(1)})
    assert record.status == "SUCCEEDED"
    curate = _steps(record)["Curate"]
    assert [a.status for a in curate.attempts] == ["FAILED", "SUCCEEDED"]
    assert "injected fault" in curate.attempts[0].cause
    assert Path(curate.attempts[0].log_path).exists()
    assert any(p.kind == "failed" and "Curate attempt 1" in p.text for p in lines)
    assert _alerts(emulator.home, record.run_id) == []


def test_a_job_killed_by_sigkill_is_retried_and_its_error_says_so(workflow, emulator):
    record, _ = _run(
        workflow, env={"RENTALS_TEST_SLEEP_LOAD_RAW": "3"}, faults={"load_raw": Fault(1, "0.5s")}
    )
    load = _steps(record)["LoadRaw"]
    assert [a.status for a in load.attempts] == ["FAILED", "SUCCEEDED"]
    assert "killed by SIGKILL" in load.attempts[0].cause
    assert "kill" in Path(load.attempts[0].log_path).read_text()


def test_an_always_failing_extract_stops_its_sibling_and_alerts(workflow, emulator):
    started = time.monotonic()
    record, _ = _run(
        workflow,
        env={"RENTALS_TEST_SLEEP_EXTRACT_VEHICLE_RENTALS": "120"},
        faults={"extract_apartments": Fault(9)},
    )
    assert time.monotonic() - started < 60  # the sibling's 120 s were cut short
    assert record.status == "FAILED"
    assert record.error == "ExtractApartmentsFailed"
    steps = _steps(record)
    assert [a.status for a in steps["ExtractApartments"].attempts] == ["FAILED"] * 3
    assert steps["ExtractVehicleRentals"].status == "STOPPED"
    assert "LoadRaw" not in steps
    (sibling,) = _job_calls(emulator.home, "extract_vehicle_rentals", record.run_id)
    assert not sibling["finished"]
    with pytest.raises(ProcessLookupError):
        os.kill(sibling["pid"], 0)
    (alert,) = _alerts(emulator.home, record.run_id)
    assert alert["subject"] == "rental-analytics: ExtractApartments failed"
    assert alert["message"]["failed_state"] == "ExtractApartments"
    assert alert["message"]["error"] == "States.TaskFailed"
    assert "injected fault" in alert["message"]["cause"]
    assert record.notifications


def test_a_failing_load_alerts_and_nothing_runs_after_it(workflow, emulator):
    record, _ = _run(workflow, env={"RENTALS_TEST_EXIT_LOAD_RAW": "3"})
    assert record.status == "FAILED"
    steps = _steps(record)
    assert len(steps["LoadRaw"].attempts) == 3 and "Curate" not in steps
    assert "FakeJobError: told to exit 3" in steps["LoadRaw"].attempts[-1].cause
    (alert,) = _alerts(emulator.home, record.run_id)
    assert alert["message"]["failed_state"] == "LoadRaw"
    assert record.failure()[0] == "LoadRaw"


def test_the_scheduled_time_becomes_the_run_date(workflow, emulator):
    schedule = json.loads(SCHEDULE_FILE.read_text())
    assert schedule["ScheduleExpression"] == "cron(0 2 * * ? *)"
    assert schedule["ScheduleExpressionTimezone"] == "UTC"
    arn = workflow.deploy()
    # What EventBridge Scheduler sends: its input with the scheduled time filled in.
    payload = schedule["Target"]["Input"].replace(
        "<aws.scheduler.scheduled-time>", "2026-11-24T02:00:00Z"
    )
    sfn = workflow.sfn
    execution = sfn.start_execution(stateMachineArn=arn, name="scheduled-1", input=payload)
    deadline = time.monotonic() + 60
    while sfn.describe_execution(executionArn=execution["executionArn"])["status"] == "RUNNING":
        assert time.monotonic() < deadline
        time.sleep(0.5)
    assert sfn.describe_execution(executionArn=execution["executionArn"])["status"] == "SUCCEEDED"
    scheduled = [c["args"] for c in _job_calls(emulator.home, "curate", "scheduled-1")]
    assert scheduled[0]["--run_date"] == "2026-11-24"
    assert scheduled[0]["--full_refresh"] == "none"
    # The schedule deploys into EventBridge Scheduler as it is (moto validates the shape).
    body = json.loads(
        substitute(
            SCHEDULE_FILE.read_text(),
            {"StateMachineArn": arn, "SchedulerRoleArn": "arn:aws:iam::123456789012:role/s"},
        )
    )
    emulator.client("scheduler").create_schedule(**body)


def test_moto_parallel_catches_a_states_error_from_a_branch(workflow, emulator):
    """Patch 3: a branch failing with States.TaskFailed reaches the Parallel's Catch."""
    workflow.deploy()  # the Glue jobs
    run_dir = emulator.home / "runs" / "parallel-catch"
    run_dir.mkdir(parents=True)
    (run_dir / "context.json").write_text(json.dumps({"env": {"RENTALS_TEST_EXIT_CURATE": "1"}}))
    task = {
        "Type": "Task",
        "Resource": "arn:aws:states:::glue:startJobRun.sync",
        "Parameters": {"JobName": "curate", "Arguments": {"--run_id": "parallel-catch"}},
        "End": True,
    }
    definition = {
        "StartAt": "P",
        "States": {
            "P": {
                "Type": "Parallel",
                "Branches": [{"StartAt": "Job", "States": {"Job": task}}],
                "Catch": [{"ErrorEquals": ["States.TaskFailed"], "Next": "Caught"}],
                "End": True,
            },
            "Caught": {"Type": "Succeed"},
        },
    }
    sfn = workflow.sfn
    arn = sfn.create_state_machine(
        name="parallel-catch", definition=json.dumps(definition),
        roleArn="arn:aws:iam::123456789012:role/x",
    )["stateMachineArn"]  # fmt: skip
    execution = sfn.start_execution(stateMachineArn=arn, input="{}")["executionArn"]
    deadline = time.monotonic() + 30
    while (status := sfn.describe_execution(executionArn=execution)["status"]) == "RUNNING":
        assert time.monotonic() < deadline
        time.sleep(0.2)
    assert status == "SUCCEEDED"
    events = sfn.get_execution_history(executionArn=execution)["events"]
    assert any(e["type"] == "TaskFailed" for e in events)


def test_moto_runs_a_state_machine_again_while_others_have_run(emulator):
    """Patch 5: StartExecution no longer deep-copies every past execution (and fails)."""
    sfn = emulator.client("stepfunctions")
    definition = json.dumps({"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}})
    arns = [
        sfn.create_state_machine(
            name=f"again-{i}", definition=definition, roleArn="arn:aws:iam::123456789012:role/x"
        )["stateMachineArn"]
        for i in range(2)
    ]
    executions = [
        sfn.start_execution(stateMachineArn=arn, name=f"run-{n}")["executionArn"]
        for n, arn in enumerate(arns * 2)
    ]
    deadline = time.monotonic() + 30
    for execution in executions:
        while (status := sfn.describe_execution(executionArn=execution)["status"]) == "RUNNING":
            assert time.monotonic() < deadline
            time.sleep(0.1)
        assert status == "SUCCEEDED"


def test_moto_checks_a_sync_task_every_sync_poll(tmp_path):
    """Patch 7: moto's .sync loop waits the module constant it reads between two looks at
    the job run; patch_moto sets it (in a process of its own here, as in the emulator's).
    What it saves (0.2 s per state on average) shows in `make bench`, not in a timed test."""
    delay = (
        "from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import"
        " state_task_service_callback as c; print(c._DELAY_SECONDS_SYNC_CONDITION_CHECK)"
    )
    patch = (
        "from pathlib import Path; from rental_analytics.local import emulator as e;"
        f" e.patch_moto(e.LocalJobRunner(Path({str(tmp_path)!r})), 0.01, Path({str(tmp_path)!r}))"
    )

    def delay_after(code: str) -> float:
        out = subprocess.run(
            [sys.executable, "-c", f"{code}\n{delay}"], capture_output=True, text=True, check=True
        )
        return float(out.stdout)

    assert delay_after("") == 0.5  # moto's own
    assert delay_after(patch) == SYNC_POLL_S < 0.5


def test_a_sync_task_asks_glue_about_its_job_run_once_the_job_has_ended(workflow, emulator):
    """Patch 8: while a job run's process runs, a .sync task looks at the process; it calls
    GetJobRun once it has ended: one call per job run, where looking every SYNC_POLL_S
    made 33 in this run (load_raw sleeps 2 s). Counted by moto's request recorder."""
    workflow.deploy()
    with _requests_served(emulator) as targets:
        record, _ = _run(workflow, env={"RENTALS_TEST_SLEEP_LOAD_RAW": "2"})
    assert record.status == "SUCCEEDED", record
    assert targets.count("AWSGlue.StartJobRun") == 4
    assert targets.count("AWSGlue.GetJobRun") == 4


def test_a_deploy_updates_the_state_machine_only_when_its_definition_changed(workflow, emulator):
    """Every `rentals run` deploys; an unchanged definition is left as it is (moto parses a
    definition it is given, 0.1 s and more), a changed one is replaced."""
    arn = workflow.deploy()
    deployed = workflow.sfn.describe_state_machine(stateMachineArn=arn)["definition"]
    with _requests_served(emulator) as targets:
        assert workflow.deploy() == arn
    assert "AWSStepFunctions.DescribeStateMachine" in targets
    assert "AWSStepFunctions.UpdateStateMachine" not in targets
    other = json.dumps({"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}})
    workflow.sfn.update_state_machine(stateMachineArn=arn, definition=other)
    assert workflow.deploy() == arn
    assert workflow.sfn.describe_state_machine(stateMachineArn=arn)["definition"] == deployed


def test_a_job_already_running_is_retried_as_concurrent_runs_exceeded(workflow, emulator):
    """MaxConcurrentRuns 1: a second run of a busy job is refused, retried, then alerted."""
    workflow.deploy()
    busy_dir = emulator.home / "runs" / "busy"
    busy_dir.mkdir(parents=True)
    (busy_dir / "context.json").write_text(
        json.dumps({"env": {"RENTALS_TEST_SLEEP_CURATE": "120"}})
    )
    busy = workflow.glue.start_job_run(JobName="curate", Arguments={"--run_id": "busy"})["JobRunId"]
    try:
        record, _ = _run(workflow)
    finally:
        workflow.glue.batch_stop_job_run(JobName="curate", JobRunIds=[busy])
    assert record.status == "FAILED" and record.error == "CurateFailed"
    attempts = _steps(record)["Curate"].attempts
    assert len(attempts) == 5  # the first try and four retries of its retrier
    assert {a.error for a in attempts} == {"Glue.ConcurrentRunsExceededException"}
    (alert,) = _alerts(emulator.home, record.run_id)
    assert alert["message"]["error"] == "Glue.ConcurrentRunsExceededException"


def test_the_execution_of_a_killed_run_is_stopped_by_the_next(workflow, emulator):
    """A stale lock's execution still runs in the emulator: the next run stops it."""
    from rental_analytics.local.run_lock import LockHolder, RunLock

    arn = workflow.deploy()
    run_dir = emulator.home / "runs" / "killed-run"
    run_dir.mkdir(parents=True)
    (run_dir / "context.json").write_text(
        json.dumps({"env": {"RENTALS_TEST_SLEEP_EXTRACT_APARTMENTS": "120"}})
    )
    execution = workflow.sfn.start_execution(
        stateMachineArn=arn, name="killed-run", input=json.dumps({"run_date": "2026-11-23"})
    )["executionArn"]
    deadline = time.monotonic() + 30
    while not _job_calls(emulator.home, "extract_apartments", "killed-run"):
        assert time.monotonic() < deadline
        time.sleep(0.2)
    holder = LockHolder(pid=999_999, run_id="killed-run", execution_arn=execution)
    (emulator.home / "run.lock").write_text(json.dumps(holder.__dict__))
    with RunLock(emulator.home).acquire(started_at="now") as lock:
        assert lock.stale == holder
        assert workflow.abort_orphan(holder.run_id, holder.execution_arn) == "RUNNING"
    assert workflow.sfn.describe_execution(executionArn=execution)["status"] == "ABORTED"
    (job,) = _job_calls(emulator.home, "extract_apartments", "killed-run")
    with pytest.raises(ProcessLookupError):
        os.kill(job["pid"], 0)


def _execute(workflow, name: str, payload: str) -> dict:
    """Start the deployed definition with ``payload`` as the console would; wait for its end."""
    arn = workflow.deploy()
    sfn = workflow.sfn
    execution = sfn.start_execution(stateMachineArn=arn, name=name, input=payload)["executionArn"]
    deadline = time.monotonic() + 60
    while (described := sfn.describe_execution(executionArn=execution))["status"] == "RUNNING":
        assert time.monotonic() < deadline
        time.sleep(0.3)
    return described


@pytest.mark.parametrize(
    "name, payload",
    [
        ("console-empty", "{}"),
        # What the Step Functions console offers as an execution's input.
        ("console-sample", '{"Comment": "Insert your JSON here"}'),
    ],
)
def test_started_by_hand_without_a_run_date_runs_for_the_utc_date_of_its_start(
    workflow, emulator, name, payload
):
    from datetime import UTC, datetime

    before = datetime.now(UTC).date().isoformat()
    described = _execute(workflow, name, payload)
    after = datetime.now(UTC).date().isoformat()
    assert described["status"] == "SUCCEEDED", described
    calls = [c["args"] for c in _job_calls(emulator.home, "curate", name)]
    assert calls and calls[0]["--run_date"] in {before, after}
    assert calls[0]["--full_refresh"] == "none"


@pytest.mark.parametrize(
    "value",
    ["yesterday", "2026-02-30", "2026-11-24X", "", 20261124, None, {"date": "2026-11-24"}],
)
def test_a_run_date_that_is_not_a_date_fails_before_any_job_and_alerts(workflow, emulator, value):
    given = json.dumps(value, separators=(",", ":"))  # as States.JsonToString writes it
    name = f"bad-date-{hashlib.sha256(given.encode()).hexdigest()[:12]}"
    described = _execute(workflow, name, json.dumps({"run_date": value}))
    assert described["status"] == "FAILED"
    assert described["error"] == "ResolveRunDateFailed"
    assert given in described["cause"]
    calls = [p for p in (emulator.home / "fake_jobs").glob("*.json") if name in p.read_text()]
    assert calls == []  # no Glue job started
    (alert,) = _alerts(emulator.home, name)
    assert alert["subject"] == "rental-analytics: ResolveRunDate failed"
    assert alert["message"]["error"] == "InvalidRunDate"
    assert given in alert["message"]["cause"]


@pytest.mark.parametrize(
    ("error", "cause"),
    [
        # Glue's own failure: a cause that is not JSON at all.
        ("Glue.AWSGlueException", "An error occurred (InternalServiceException): not JSON"),
        # JSON, but Glue's job run, not the branch's failure description.
        # (A Fail state may not name a States.* error: the ASL reserves them.)
        ("Glue.JobRunFailed", '{"JobRunState": "FAILED", "ErrorMessage": "boom"}'),
        # The branch's error name with a cause that does not parse.
        ("BranchFailed", "{truncated"),
    ],
)
def test_a_parallel_failure_of_any_shape_still_publishes_the_alert(
    workflow, emulator, error, cause
):
    """The real definition, its first Extract branch replaced by a Fail state with the
    given error and cause: the failure path publishes to SNS and fails the execution."""
    from rental_analytics.local.orchestration import ALERT_TOPIC_NAME, JOBS, definition

    workflow.deploy()
    topic = workflow.sns.create_topic(Name=ALERT_TOPIC_NAME)["TopicArn"]  # the deployed one
    asl = json.loads(definition({j.substitution: j.name for j in JOBS} | {"AlertTopicArn": topic}))
    fail = {"Type": "Fail", "Error": error, "Cause": cause}
    asl["States"]["Extract"]["Branches"] = [
        {"StartAt": "Boom", "States": {"Boom": fail}},
        {"StartAt": "Idle", "States": {"Idle": {"Type": "Pass", "End": True}}},
    ]
    name = "shape-" + hashlib.md5((error + cause).encode()).hexdigest()[:10]
    sfn = workflow.sfn
    arn = sfn.create_state_machine(
        name=name, definition=json.dumps(asl), roleArn="arn:aws:iam::123456789012:role/x"
    )["stateMachineArn"]
    execution = sfn.start_execution(
        stateMachineArn=arn, name=name, input=json.dumps({"run_date": "2026-11-23"})
    )["executionArn"]
    deadline = time.monotonic() + 30
    while (described := sfn.describe_execution(executionArn=execution))["status"] == "RUNNING":
        assert time.monotonic() < deadline
        time.sleep(0.2)
    assert described["status"] == "FAILED"
    events = sfn.get_execution_history(executionArn=execution)["events"]
    entered = [
        e["stateEnteredEventDetails"]["name"] for e in events if "stateEnteredEventDetails" in e
    ]
    assert "NotifyFailure" in entered and "ExtractBranchFailed" not in entered
    (alert,) = _alerts(emulator.home, name)
    assert alert["message"]["failed_state"] == "Extract"
    assert alert["message"]["error"] == error
    assert alert["message"]["cause"] == cause
