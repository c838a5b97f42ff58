"""Running the `rentals` command as a user does, and snapshots of the warehouse it fills."""

from __future__ import annotations

import os
import subprocess
import sys
from decimal import Decimal

# Retry waits of the definition (60 s, then 120 s) shortened to 0.6 s and 1.2 s.
FAST_RETRIES = {"RENTALS_RETRY_INTERVAL_SCALE": "0.01"}


def rentals(home, *args: str, check: bool = True, timeout: int = 900, env=None):
    proc = subprocess.run(
        [sys.executable, "-m", "rental_analytics.cli", *args],
        env={**os.environ, **FAST_RETRIES, **(env or {}), "RENTALS_HOME": str(home)},
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if check:
        assert proc.returncode == 0, (
            f"rentals {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}"
        )
    return proc


def normalized(rows) -> set[tuple]:
    """Rows with Decimals normalised, so 2.50 and 2.5 compare equal."""
    return {tuple(v.normalize() if isinstance(v, Decimal) else v for v in r) for r in rows}


def view_rows(wh, view: str) -> set[tuple]:
    _, rows = wh.query(f"select * from presentation.{view}")  # noqa: S608 - test view names
    return normalized(rows)


def snapshot(wh, tables) -> dict[str, list]:
    """Every row of ``tables`` without the wall-clock audit columns."""
    out = {}
    for t in tables:
        cols, _ = wh.query(f"select * from {t} limit 0")  # noqa: S608 - test table names
        keep = ", ".join(c for c in cols if c not in ("loaded_at", "rejected_at"))
        _, rows = wh.query(f"select {keep} from {t} order by {keep}")  # noqa: S608
        out[t] = rows
    return out
