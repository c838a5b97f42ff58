"""The wheel Glue installs (``--additional-python-modules`` with ``--no-deps``).

It carries the package, its rule files, and the warehouse SQL of redshift/ as
``rental_analytics/redshift/`` (setup.py's build step), so that ``sql_dir()`` finds the SQL
in Glue as it does in a checkout.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# What the build reads: metadata, the build step, the package, the SQL.
BUILD_INPUTS = ("pyproject.toml", "setup.py", "README.md", "rental_analytics", "redshift")


# Installed beside the wheel by every Glue job (--additional-python-modules, with --no-deps):
# the Data API sessions the warehouse needs (ExecuteStatement SessionKeepAliveSeconds) came
# with botocore in August 2024, and which botocore Glue 5.1 bundles is not documented here.
# Pinned as a set (boto3 requires its own botocore and s3transfer) to the versions the tests
# run with; jmespath, urllib3 and python-dateutil are in Glue already.
GLUE_RUNTIME_MODULES = ("boto3==1.44.18", "botocore==1.44.18", "s3transfer==0.19.3")


def glue_runtime_modules() -> str:
    """The value of the template's GlueRuntimeModules: the pins, comma-separated."""
    return ",".join(GLUE_RUNTIME_MODULES)


class PackagingError(RuntimeError):
    """The wheel could not be built; the message carries the build's own output."""


def build_wheel(out_dir: Path, source: Path = REPO) -> Path:
    """Build the package wheel into ``out_dir`` and return its path.

    The build runs on a clean copy of the checkout's build inputs: a ``build/`` folder left
    in the checkout would otherwise lend a rebuilt wheel stale modules, and two builds at
    once would share it.
    """
    missing = [name for name in BUILD_INPUTS if not (source / name).exists()]
    if missing:
        raise PackagingError(f"{source} is not a checkout of the project: no {', '.join(missing)}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="rentals-wheel-") as tmp:
        tree, wheels = Path(tmp) / "src", Path(tmp) / "wheels"
        tree.mkdir()
        ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
        for name in BUILD_INPUTS:
            path = source / name
            if path.is_dir():
                shutil.copytree(path, tree / name, ignore=ignore)
            else:
                shutil.copy2(path, tree / name)
        command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet"]
        done = subprocess.run(
            [*command, "--wheel-dir", str(wheels), str(tree)],
            capture_output=True,
            text=True,
            check=False,
        )
        built = sorted(wheels.glob("*.whl"))
        if done.returncode != 0 or len(built) != 1:
            output = (done.stdout + done.stderr).strip()[-4000:]
            raise PackagingError(f"pip wheel failed (exit {done.returncode}):\n{output}")
        target = out_dir / built[0].name
        shutil.copyfile(built[0], target)
    return target
