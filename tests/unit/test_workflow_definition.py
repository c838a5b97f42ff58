"""The state machine definition's structure: what every deploy and every local run executes."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from rental_analytics.local.orchestration import (
    DEFINITION_FILE,
    JOBS,
    SCHEDULE_FILE,
    Fault,
    WorkflowError,
    definition,
    parse_faults,
    substitute,
)

ASL = json.loads(DEFINITION_FILE.read_text())
SUBSTITUTIONS = {j.substitution: j.name for j in JOBS} | {"AlertTopicArn": "arn:topic"}


def _all_states(states: dict) -> dict:
    """Every state, the Parallel's branches included."""
    found = {}
    for name, state in states.items():
        found[name] = state
        for branch in state.get("Branches", []):
            found |= _all_states(branch["States"])
    return found


STATES = _all_states(ASL["States"])
GLUE_TASKS = {
    n: s for n, s in STATES.items() if s.get("Resource") == "arn:aws:states:::glue:startJobRun.sync"
}


def test_statelint_accepts_the_definition():
    statelint = shutil.which("statelint", path=str(Path(sys.executable).parent))
    assert statelint, "statelint is a dev dependency: make setup"
    proc = subprocess.run([statelint, str(DEFINITION_FILE)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_extracts_run_in_parallel_then_load_then_curate():
    extract = ASL["States"]["Extract"]
    assert extract["Type"] == "Parallel"
    assert [b["StartAt"] for b in extract["Branches"]] == [
        "ExtractApartments",
        "ExtractVehicleRentals",
    ]
    assert extract["Next"] == "LoadRaw"
    assert ASL["States"]["LoadRaw"]["Next"] == "Curate"
    assert ASL["States"]["Curate"]["Next"] == "Succeeded"


def test_each_job_state_runs_its_glue_job_by_substitution():
    assert set(GLUE_TASKS) == {j.state for j in JOBS}
    for job in JOBS:
        params = GLUE_TASKS[job.state]["Parameters"]
        assert params["JobName"] == "${" + job.substitution + "}"
        assert params["Arguments"]["--run_date.$"] == "$.run_date"
        assert params["Arguments"]["--run_id.$"] == "$$.Execution.Name"


def test_retries_are_bounded_with_backoff_on_transient_and_task_errors():
    for name, task in GLUE_TASKS.items():
        retried = {e for r in task["Retry"] for e in r["ErrorEquals"]}
        assert {"Glue.ConcurrentRunsExceededException", "Glue.AWSGlueException",
                "States.TaskFailed"} <= retried, name  # fmt: skip
        for retrier in task["Retry"]:
            assert 1 <= retrier["MaxAttempts"] <= 5, name
            assert retrier["BackoffRate"] > 1, name


def _path_to_fail(start: str) -> list[str]:
    """Follow Next from ``start`` (top level) to the end."""
    path, name = [], start
    while name:
        path.append(name)
        name = ASL["States"][name].get("Next")
    return path


def test_every_failure_is_caught_alerted_and_fails_the_execution():
    for name, task in GLUE_TASKS.items():
        (catch,) = task["Catch"]
        assert catch["ErrorEquals"] == ["States.ALL"], name
        describe = STATES[catch["Next"]]
        assert describe["Parameters"]["state"] == name  # the alert names the failed state
    assert ASL["States"]["Extract"]["Catch"][0]["Next"] == "ExtractFailed"
    extract_failed = ASL["States"]["ExtractFailed"]
    outcomes = [c["Next"] for c in extract_failed["Choices"]] + [extract_failed["Default"]]
    for start in (*outcomes, "LoadRawFailed", "CurateFailed"):
        assert _path_to_fail(start)[-2:] == ["NotifyFailure", "Failed"]
    notify = ASL["States"]["NotifyFailure"]
    assert notify["Resource"] == "arn:aws:states:::sns:publish"
    assert notify["Parameters"]["TopicArn"] == "${AlertTopicArn}"
    assert set(notify["Parameters"]["Message"]) >= {"failed_state.$", "error.$", "cause.$"}
    assert ASL["States"]["Failed"]["Type"] == "Fail"


def test_no_job_name_topic_or_account_is_a_literal():
    text = DEFINITION_FILE.read_text()
    assert not re.search(r"arn:aws:(sns|iam|glue):", text)
    for job in JOBS:
        assert f'"{job.name}"' not in text
    assert set(re.findall(r"\$\{(\w+)\}", text)) == set(SUBSTITUTIONS)


def test_substitution_fills_every_placeholder_or_says_which_is_missing():
    filled = json.loads(definition(SUBSTITUTIONS))
    assert "${" not in json.dumps(filled)
    with pytest.raises(WorkflowError, match="AlertTopicArn"):
        substitute(DEFINITION_FILE.read_text(), {j.substitution: j.name for j in JOBS})


def test_schedule_is_daily_at_two_utc_passing_the_scheduled_time():
    schedule = json.loads(SCHEDULE_FILE.read_text())
    assert schedule["ScheduleExpression"] == "cron(0 2 * * ? *)"
    assert schedule["ScheduleExpressionTimezone"] == "UTC"
    assert json.loads(schedule["Target"]["Input"]) == {"run_date": "<aws.scheduler.scheduled-time>"}
    assert schedule["Target"]["Arn"] == "${StateMachineArn}"


def test_fault_spec_parsing():
    assert parse_faults("") == {}
    assert parse_faults("load_raw, curate:3") == {"load_raw": Fault(1), "curate": Fault(3)}
    assert parse_faults("load_raw@batch_merged:2,extract_apartments@2.5s") == {
        "load_raw": Fault(2, "batch_merged"),
        "extract_apartments": Fault(1, "2.5s"),
    }
    with pytest.raises(WorkflowError, match="no kill point 'in_merge'"):
        parse_faults("load_raw@in_merge")
    with pytest.raises(WorkflowError, match="no kill point 'soon'"):
        parse_faults("curate@soon:1")
    with pytest.raises(WorkflowError, match="unknown job 'loadraw'"):
        parse_faults("loadraw:1")
    with pytest.raises(WorkflowError, match="whole number"):
        parse_faults("curate:x")


def test_only_a_branch_failure_that_is_json_is_parsed_before_the_alert():
    """Glue's own errors (a cause that is not JSON, or JSON that is not the branch's
    description) reach the alert as they are: States.StringToJson never sees them."""
    choice = ASL["States"]["ExtractFailed"]
    assert choice["Type"] == "Choice"
    parse_rule, raw_rule = choice["Choices"]
    conditions = {
        (c["Variable"], k): v for c in parse_rule["And"] for k, v in c.items() if k != "Variable"
    }
    assert conditions[("$.failure.Error", "StringEquals")] == "BranchFailed"
    assert conditions[("$.failure.Cause", "StringMatches")] == '{"*}'
    assert "StringToJson" in json.dumps(ASL["States"][parse_rule["Next"]])
    for name in (raw_rule["Next"], choice["Default"]):
        state = ASL["States"][name]
        assert "StringToJson" not in json.dumps(state), name
        assert state["Parameters"]["alert"]["state"] == "Extract"
