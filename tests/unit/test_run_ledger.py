"""The run ledger: records written and read back, newest first, failures named."""

from __future__ import annotations

from rental_analytics.runs import Attempt, RunLedger, RunRecord, StepRecord, readable_failure


def _record(run_id: str, started: str, status: str = "SUCCEEDED") -> RunRecord:
    load = StepRecord(
        state="LoadRaw", job="load_raw", status=status,
        started_at=f"{started}:00+00:00", ended_at=f"{started}:30+00:00",
        attempts=[Attempt(attempt=1, status=status, error="States.TaskFailed",
                          cause='{"ErrorMessage": "ValueError: bad"}',
                          metrics={"batches": [{"rows_loaded": 7, "rows_rejected": 2}]})],
    )  # fmt: skip
    return RunRecord(run_id=run_id, run_date="2026-11-23", status=status,
                     started_at=f"{started}:00+00:00", steps=[load])  # fmt: skip


def test_round_trip_and_order(tmp_path):
    ledger = RunLedger(tmp_path)
    ledger.save(_record("a", "2026-11-23T10:00"))
    ledger.save(_record("b", "2026-11-23T11:00", status="FAILED"))
    newest, older = ledger.recent()
    assert (newest.run_id, older.run_id) == ("b", "a")
    step = ledger.load("a").steps[0]
    assert step.seconds == 30.0
    assert step.figures() == {"extracted": 0, "loaded": 7, "rejected": 2, "merged": 0}
    assert newest.failure() == ("LoadRaw", "States.TaskFailed: ValueError: bad")
    assert ledger.recent(limit=1)[0].run_id == "b"


def test_readable_failure_keeps_a_plain_cause():
    assert readable_failure("Boom", "not json") == "Boom: not json"
    assert readable_failure("Boom", "") == "Boom"


def test_seconds_by_part_says_where_the_time_went():
    metrics = {
        "batches": [{"table": "bookings", "seconds": {"write": 2.0, "copy": 1.0, "merge": 0.5,
                                                       "load_transaction": 1.6}}],
        "merges": [{"target": "fact_bookings", "seconds": 0.25}],
        "tables": [{"table": "apartments", "seconds": 3.5}],
        "quality_rules": 4, "quality_seconds": 0.125,
    }  # fmt: skip
    step = StepRecord(state="S", attempts=[Attempt(attempt=1, metrics=metrics)])
    assert step.seconds_by_part() == [
        ("apartments", 3.5, {}),
        ("bookings", 3.5, {"write": 2.0, "copy": 1.0, "merge": 0.5, "load_transaction": 1.6}),
        ("fact_bookings", 0.25, {}),
        ("quality gate", 0.125, {}),
    ]
    assert StepRecord(state="S").seconds_by_part() == []
