"""Where a workflow run keeps its artifacts, and the run ledger that lists them.

A run is one execution of the state machine; its id is the execution name. Everything it
leaves lives under ``<runs_root>/<run_id>/``:

- ``context.json``  what the starter handed to the local job runner (environment, faults)
- ``<job>.<job_run_id>.log`` and ``.metrics.json``  one pair per Glue job run (attempt)
- ``run.json``  the ledger entry: each state's start, end, status, attempts and row counts

The ledger is written by whoever watched the execution (``rentals run``); ``rentals runs``
reads it back.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

LEDGER_FILE = "run.json"
CONTEXT_FILE = "context.json"
_RUN_ID = re.compile(r"^[A-Za-z0-9_-]{1,80}$")


def is_run_id(text: str) -> bool:
    """Run ids name folders: letters, digits, '-' and '_', nothing that could climb out."""
    return bool(_RUN_ID.match(text))


def runs_root_of(home: Path) -> Path:
    """Where a local home keeps its runs."""
    return home / "runs"


def run_dir(runs_root: str | Path, run_id: str) -> Path:
    return Path(runs_root) / run_id


def job_log_path(runs_root: str | Path, run_id: str, job_name: str, job_run_id: str) -> Path:
    return run_dir(runs_root, run_id) / f"{job_name}.{job_run_id}.log"


def job_metrics_path(runs_root: str | Path, run_id: str, job_name: str, job_run_id: str) -> Path:
    return run_dir(runs_root, run_id) / f"{job_name}.{job_run_id}.metrics.json"


def write_json_atomically(path: Path, doc: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as fh:
            json.dump(doc, fh, indent=2, default=str)
            fh.write("\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def readable_failure(error: str, cause: str) -> str:
    """A Glue task's cause is its JobRun document: its ErrorMessage is the readable part."""
    try:
        doc = json.loads(cause)
    except (TypeError, ValueError):
        doc = None
    if isinstance(doc, dict) and doc.get("ErrorMessage"):
        return f"{error}: {doc['ErrorMessage']}"
    return f"{error}: {cause}" if cause else error


def _seconds_between(started_at: str, ended_at: str) -> float | None:
    if not (started_at and ended_at):
        return None
    start = datetime.fromisoformat(started_at)
    return (datetime.fromisoformat(ended_at) - start).total_seconds()


@dataclass
class Attempt:
    """One Glue job run of a state: the first try or a retry."""

    attempt: int
    job_run_id: str = ""
    status: str = "RUNNING"
    started_at: str = ""
    ended_at: str = ""
    error: str = ""
    cause: str = ""
    log_path: str = ""
    metrics: dict[str, Any] = field(default_factory=dict)


@dataclass
class StepRecord:
    """One state of the execution, with its attempts (task states) and row counts."""

    state: str
    job: str = ""
    status: str = "RUNNING"
    started_at: str = ""
    ended_at: str = ""
    attempts: list[Attempt] = field(default_factory=list)

    @property
    def seconds(self) -> float | None:
        return _seconds_between(self.started_at, self.ended_at)

    def figures(self) -> dict[str, int]:
        """Rows extracted / loaded / rejected / merged, from the last attempt's metrics."""
        figures = {"extracted": 0, "loaded": 0, "rejected": 0, "merged": 0}
        m = self.attempts[-1].metrics if self.attempts else {}
        for t in m.get("tables", []):
            figures["extracted"] += t.get("rows", 0)
        for b in m.get("batches", []):
            figures["loaded"] += b.get("rows_loaded", 0)
            figures["rejected"] += b.get("rows_rejected", 0)
        for mg in m.get("merges", []):
            figures["merged"] += mg.get("rows_merged", 0)
        return figures

    def seconds_by_part(self) -> list[tuple[str, float, dict[str, float]]]:
        """Where the last attempt's time went, from its metrics: (table or merge target,
        seconds, seconds per step) for each table extracted or loaded and each merge, then
        the quality gate; empty for an attempt without metrics."""
        m = self.attempts[-1].metrics if self.attempts else {}
        parts: list[tuple[str, float, dict[str, float]]] = []
        for t in m.get("tables", []):
            steps = {k: float(v) for k, v in (t.get("steps") or {}).items()}
            parts.append((t.get("table", "?"), float(t.get("seconds", 0.0)), steps))
        for b in m.get("batches", []):
            steps = {k: float(v) for k, v in (b.get("seconds") or {}).items()}
            total = sum(v for k, v in steps.items() if k != "load_transaction")
            parts.append((b.get("table", "?"), total, steps))
        for mg in m.get("merges", []):
            parts.append((mg.get("target", "?"), float(mg.get("seconds", 0.0)), {}))
        if m.get("quality_rules"):
            parts.append(("quality gate", float(m.get("quality_seconds", 0.0)), {}))
        return parts


@dataclass
class RunRecord:
    run_id: str
    run_date: str
    status: str = "RUNNING"
    execution_arn: str = ""
    started_at: str = ""
    ended_at: str = ""
    error: str = ""
    cause: str = ""
    steps: list[StepRecord] = field(default_factory=list)
    notifications: list[str] = field(default_factory=list)

    @property
    def succeeded(self) -> bool:
        return self.status == "SUCCEEDED"

    @property
    def seconds(self) -> float | None:
        return _seconds_between(self.started_at, self.ended_at)

    def failure(self) -> tuple[str, str]:
        """The state that failed and why, from its last attempt; else the execution's error."""
        for step in self.steps:
            if step.status == "FAILED" and step.attempts:
                last = step.attempts[-1]
                return step.state, readable_failure(last.error, last.cause)
        return "", readable_failure(self.error, self.cause)

    def to_json(self) -> dict[str, Any]:
        doc = asdict(self)
        for step, rec in zip(doc["steps"], self.steps, strict=True):
            step["seconds"] = rec.seconds
            step["rows"] = rec.figures()
        return doc

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> RunRecord:
        steps = []
        for s in doc.get("steps", []):
            attempts = [Attempt(**a) for a in s.get("attempts", [])]
            fields = {k: v for k, v in s.items() if k not in ("attempts", "seconds", "rows")}
            steps.append(StepRecord(**fields, attempts=attempts))
        fields = {k: v for k, v in doc.items() if k != "steps"}
        return cls(**fields, steps=steps)


class RunLedger:
    """The ledger of one home: a ``run.json`` per run directory."""

    def __init__(self, runs_root: str | Path):
        self.root = Path(runs_root)

    def path(self, run_id: str) -> Path:
        return run_dir(self.root, run_id) / LEDGER_FILE

    def save(self, record: RunRecord) -> Path:
        path = self.path(record.run_id)
        write_json_atomically(path, record.to_json())
        return path

    def load(self, run_id: str) -> RunRecord:
        return RunRecord.from_json(json.loads(self.path(run_id).read_text()))

    def recent(self, limit: int = 10) -> list[RunRecord]:
        """The newest runs first, by the time they started."""
        records = []
        for path in self.root.glob(f"*/{LEDGER_FILE}"):
            try:
                records.append(RunRecord.from_json(json.loads(path.read_text())))
            except (json.JSONDecodeError, TypeError, KeyError):
                continue  # a ledger being written, or from an older layout: not a run to list
        records.sort(key=lambda r: (r.started_at, r.run_id), reverse=True)
        return records[:limit]
