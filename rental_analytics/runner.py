"""Runs the pipeline's Glue entrypoint scripts in order, each as its own process.

This is the local sequential runner; the Step Functions definition replaces it (issue 4).
Each job writes its metrics to a JSON file that the runner gathers into the summary.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
GLUE_JOBS = REPO / "glue_jobs"


@dataclass(frozen=True)
class Step:
    name: str
    script: str
    arguments: tuple[str, ...] = ()


STEPS: tuple[Step, ...] = (
    Step("extract_apartments", "extract_raw.py", ("--domain", "apartments")),
    Step("extract_vehicle_rentals", "extract_raw.py", ("--domain", "vehicle_rentals")),
    Step("load_raw", "load_raw.py"),
    Step("curate", "curate.py"),
)


@dataclass
class StepResult:
    step: str
    status: str
    seconds: float
    metrics: dict[str, Any] = field(default_factory=dict)
    log_path: str = ""
    error: str = ""


@dataclass
class RunSummary:
    run_id: str
    run_date: str
    steps: list[StepResult] = field(default_factory=list)

    @property
    def succeeded(self) -> bool:
        return bool(self.steps) and all(s.status == "SUCCEEDED" for s in self.steps)


def _tail(path: Path, lines: int = 15) -> str:
    text = path.read_text(errors="replace").splitlines() if path.exists() else []
    return "\n".join(text[-lines:])


def run_pipeline(
    home: Path,
    run_date: date,
    full_refresh: tuple[str, ...] = (),
    on_step: Callable[[str, StepResult | None], None] | None = None,
) -> RunSummary:
    run_id = f"{run_date.isoformat()}_{datetime.now(UTC):%Y%m%dT%H%M%S}"
    run_dir = home / "runs" / run_id
    run_dir.mkdir(parents=True, exist_ok=True)
    summary = RunSummary(run_id=run_id, run_date=run_date.isoformat())
    env = {**os.environ, "RENTALS_HOME": str(home)}
    for step in STEPS:
        if on_step:
            on_step(step.name, None)
        metrics_path = run_dir / f"{step.name}.metrics.json"
        log_path = run_dir / f"{step.name}.log"
        args = [
            sys.executable,
            str(GLUE_JOBS / step.script),
            "--JOB_NAME", step.name,
            "--run_date", run_date.isoformat(),
            "--metrics_path", str(metrics_path),
            *step.arguments,
        ]  # fmt: skip
        if full_refresh and step.script == "extract_raw.py":
            args += ["--full_refresh", ",".join(full_refresh)]
        started = time.monotonic()
        with open(log_path, "wb") as log_fh:
            proc = subprocess.run(args, stdout=log_fh, stderr=subprocess.STDOUT, env=env, cwd=REPO)
        result = StepResult(
            step=step.name,
            status="SUCCEEDED" if proc.returncode == 0 else "FAILED",
            seconds=time.monotonic() - started,
            log_path=str(log_path),
        )
        if metrics_path.exists():
            result.metrics = json.loads(metrics_path.read_text())["metrics"]
        if proc.returncode != 0:
            result.error = _tail(log_path)
        summary.steps.append(result)
        if on_step:
            on_step(step.name, result)
        if proc.returncode != 0:
            break
    (run_dir / "summary.json").write_text(
        json.dumps(
            {
                "run_id": summary.run_id,
                "run_date": summary.run_date,
                "status": "SUCCEEDED" if summary.succeeded else "FAILED",
                "steps": [vars(s) for s in summary.steps],
            },
            indent=2,
            default=str,
        )
    )
    return summary


def step_figures(result: StepResult) -> dict[str, int]:
    """Rows extracted / loaded / rejected / merged of one step, from its metrics."""
    m = result.metrics
    figures = {"extracted": 0, "loaded": 0, "rejected": 0, "merged": 0}
    for t in m.get("tables", []):
        figures["extracted"] += t.get("rows", 0)
    for b in m.get("batches", []):
        figures["loaded"] += b.get("rows_loaded", 0)
        figures["rejected"] += b.get("rows_rejected", 0)
    for mg in m.get("merges", []):
        figures["merged"] += mg.get("rows_merged", 0)
    return figures
