"""A stand-in Glue job for workflow tests: records its arguments, sleeps, exits as told.

The emulator runs it exactly as it runs the real job scripts. What it does comes from the
run's job environment: RENTALS_TEST_SLEEP_<JOB> seconds, RENTALS_TEST_EXIT_<JOB> code;
an injected fault (RENTALS_INJECTED_FAULT) fails it as it fails a real job, and a kill
after a delay (RENTALS_KILL_AT) kills it as it kills a real job.
"""

import json
import os
import sys
import time
from pathlib import Path


def main() -> None:
    argv = sys.argv[1:]
    args = dict(zip(argv[::2], argv[1::2], strict=True))
    job = args["--JOB_NAME"]
    out = Path(os.environ["RENTALS_HOME"]) / "fake_jobs" / f"{job}.{args['--JOB_RUN_ID']}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"args": args, "pid": os.getpid(), "finished": False}))
    from rental_analytics.jobs.faults import arm_kill_timer

    arm_kill_timer()  # RENTALS_KILL_AT=N.Ns: killed by SIGKILL while it sleeps
    if os.environ.get("RENTALS_INJECTED_FAULT"):
        print(f"InjectedFault: {os.environ['RENTALS_INJECTED_FAULT']}", file=sys.stderr)
        sys.exit(1)
    time.sleep(float(os.environ.get(f"RENTALS_TEST_SLEEP_{job.upper()}", "0")))
    code = int(os.environ.get(f"RENTALS_TEST_EXIT_{job.upper()}", "0"))
    out.write_text(json.dumps({"args": args, "pid": os.getpid(), "finished": True}))
    if code:
        print(f"FakeJobError: told to exit {code}", file=sys.stderr)
    sys.exit(code)
